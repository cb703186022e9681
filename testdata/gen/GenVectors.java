import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Reads inputs.tsv on stdin (see gen_inputs.py) and prints one signature per
 * line, computed by the seed's JSP sample: getMessageDigest below is its
 * code, unchanged. Integer fields are parsed into a long and concatenated,
 * as Java concatenates a long amount.
 */
public class GenVectors {
    static String getMessageDigest(String s) {
        char hexDigits[] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
        try {
            byte[] buffer = s.getBytes("UTF-8");
            MessageDigest mdTemp = MessageDigest.getInstance("MD5");
            mdTemp.update(buffer);
            byte[] md = mdTemp.digest();
            int j = md.length;
            char str[] = new char[j * 2];
            int k = 0;
            for (int i = 0; i < j; i++) {
                byte byte0 = md[i];
                str[k++] = hexDigits[byte0 >>> 4 & 0xf];
                str[k++] = hexDigits[byte0 & 0xf];
            }
            return new String(str);
        } catch (Exception e) {
            return null;
        }
    }

    static String unhex(String h) {
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    static int intField(String kind) {
        switch (kind) {
            case "order": return 2;
            case "webhook": return 4;
            case "legacy": return 2;
        }
        throw new IllegalArgumentException("unknown kind " + kind);
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            int n = intField(f[0]);
            String data = "";
            for (int i = 1; i < f.length; i++) {
                if (i - 1 == n) {
                    long v = Long.parseLong(f[i]);
                    data = data + v;
                } else {
                    data = data + unhex(f[i]);
                }
            }
            out.append(getMessageDigest(data)).append('\n');
        }
        System.out.print(out);
    }
}
