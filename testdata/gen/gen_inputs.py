#!/usr/bin/env python3
"""Writes inputs.tsv: the inputs of the sign vectors, one per line.

Each line is a kind followed by its fields, tab-separated. Text fields are
hex-encoded UTF-8 so that any character (tabs, newlines, emoji) survives;
integer fields are decimal. The kinds and their fields, in hashing order:

  order    app_id title amount out_trade_no app_secret       (BC.click sign)
  webhook  app_id transaction_id transaction_type channel_type
           transaction_fee master_secret                     (webhook signature)
  legacy   app_id secret timestamp                           (legacy webhook sign)

The choice is deterministic (a fixed seed), so running gen.sh twice gives
the same files.
"""
import random
import uuid

rng = random.Random(20150701)


def rand_uuid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def h(s):
    return s.encode("utf-8").hex()


APP_IDS = [
    "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",  # the seed's demo app
    "afae2a33-c9cb-4139-88c9-af5c1df472e1",  # beecloud-dotnet's test app
    "C5D1CBA1-5E3F-4BA0-941D-9B0A371FE719",  # upper case: a different app id
    "app",
    "应用-测试",
] + [rand_uuid() for _ in range(5)]

SECRETS = [
    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",  # the seed's demo secret
    "506371c7-b095-45da-bfce-9ae857c41a85",  # beecloud-dotnet's master secret
    "s3cr3t with spaces",
    "密钥🔑",
] + [rand_uuid() for _ in range(5)]

TITLES = [
    "test",
    "testPay",
    "你的订单标题",
    "中文 node.js water",
    "测试",
    "测试商品一二三四五六七八九十一二",  # 16 Chinese characters
    "a" * 32,
    "支付宝 Alipay 微信 WeChat",
    "☕ 咖啡",
    "☕️ 咖啡 (with VS16)",
    "🍰蛋糕🎂",
    "👨‍👩‍👧‍👦 family",
    "🇨🇳 国旗",
    "Café crème brûlée",
    "e\u0301 combining",
    "Ünïcödé Ü",
    "日本語のタイトル",
    "한국어 제목",
    "Русский товар",
    "العربية",
    "עברית",
    "ไทย สินค้า",
    "Ελληνικά",
    "mixed 中文 English 123 русский 🙂",
    " leading space",
    "trailing space ",
    "two  spaces",
    "\u3000全角空格\u3000",
    "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ",
    "!#$%&()*+,-./:;<=>?@[]^_`{|}~",
    "back\\slash",
    "100% 纯棉 T恤",
    "¥9.99 元",
    "€ £ ¥ ₩ ₹ ₿",
    "quote ' and \" (Sign does not validate)",
    "tab\there",
    "line\nbreak",
    "\u2028 line separator",
    "nul\x00byte",
    "𠀀𠀁 CJK Ext B",
    "龘龍",
    "〇一二三",
    "A" * 100,
    "长" * 100,  # 300 bytes: longer than Sign's stack buffer
    "😀" * 70,
    "1",
    "0",
    "-",
    "订单#20150701",
    "<script>alert(1)</script>",
    "&amp; &lt;",
]

AMOUNTS = [1, 2, 9, 10, 11, 99, 100, 101, 150, 199, 999, 1000, 1234, 10000, 99999,
           999999, 1000000, 123456789, 2**31 - 1, 2**31, 2**32, 10**12,
           2**53 - 2, 2**53 - 1, 2**53, 10**18, 2**63 - 1]

NOS = ["test0001", "test1426817510111", "bc1432000000", "12345678",
       "abcdefghABCDEFGH0123456789abcdef", "ZZZZZZZZ"]


def rand_no():
    k = rng.choice(["hex", "alnum", "digits"])
    if k == "hex":
        return "%032x" % rng.getrandbits(128)
    n = rng.randint(8, 32)
    alphabet = "0123456789" if k == "digits" else \
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(rng.choice(alphabet) for _ in range(n))


POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    " !#$%&()*+,-./:;<=>?@[]^_`{|}~",
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严",
    "😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗🙂🤗🤩🤔🤨😐😑😶🙄😏😣😥😮🤐😯😪😫🥱😴😌😛😜😝🤤😒😓😔😕🙃🤑😲🙁😖😞😟😤😢😭😦😧😨😩🤯😬😰😱🥵🥶😳🤪😵🥴😠😡🤬😷🤒🤕🤢🤮🤧😇🥳🥺🤠🤡🤥🤫🤭🧐🤓😈👿👹👺💀👻👽🤖💩😺😸😹😻😼😽🙀😿😾🍎🍊🍋🍌🍉🍇🍓🍈🍒🍑🥭🍍🥥🥝🍅",
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяΑΒΓΔΕΖΗΘαβγδεζηθ",
    "あいうえおかきくけこアイウエオカキクケコ한국어가나다라",
]


def rand_title():
    n = rng.randint(1, 24)
    return "".join(rng.choice(rng.choice(POOLS)) for _ in range(n))


def rand_amount():
    return rng.choice([
        rng.randint(1, 100),
        rng.randint(1, 1000000),
        rng.randint(1, 2**53 - 1),
        rng.randint(1, 2**63 - 1),
    ])


def order(app_id, title, amount, no, secret):
    return "\t".join(["order", h(app_id), h(title), str(amount), h(no), h(secret)])


lines = []
# The public vector of SPEC §2 first, then every title and every amount once
# with the seed's app, then random combinations.
lines.append(order(APP_IDS[0], "test", 1, "test0001", SECRETS[0]))
for i, t in enumerate(TITLES):
    lines.append(order(APP_IDS[0], t, AMOUNTS[i % len(AMOUNTS)], NOS[i % len(NOS)], SECRETS[0]))
for a in AMOUNTS:
    lines.append(order(APP_IDS[0], "中文 node.js water", a, "test0001", SECRETS[0]))
for i, a in enumerate(APP_IDS):
    for j, s in enumerate(SECRETS):
        if (i + j) % 3 == 0:
            lines.append(order(a, rng.choice(TITLES), rng.choice(AMOUNTS), rng.choice(NOS), s))
while len(lines) < 320:
    title = rand_title() if rng.random() < 0.7 else rng.choice(TITLES)
    lines.append(order(rng.choice(APP_IDS), title, rand_amount(), rand_no(), rng.choice(SECRETS)))

# Webhook signatures: SPEC §6's public vector first.
lines.append("\t".join(["webhook", h("afae2a33-c9cb-4139-88c9-af5c1df472e1"),
                        h("5f0c1466d8bd11e6b66d00163e005bb3"), h("PAY"), h("BC"), "1",
                        h("506371c7-b095-45da-bfce-9ae857c41a85")]))
for i in range(40):
    lines.append("\t".join(["webhook", h(rng.choice(APP_IDS)), h(rand_no()),
                            h(rng.choice(["PAY", "REFUND", "TRANSFER"])),
                            h(rng.choice(["WX", "ALI", "UN", "KUAIQIAN", "JD", "BD", "YEE", "PAYPAL", "BC"])),
                            str(rand_amount()), h(rng.choice(SECRETS))]))

# Legacy webhook signs: the seed's app at SPEC §6's example timestamp first.
lines.append("\t".join(["legacy", h(APP_IDS[0]), h(SECRETS[0]), "1426817510111"]))
for i in range(20):
    lines.append("\t".join(["legacy", h(rng.choice(APP_IDS)), h(rng.choice(SECRETS)),
                            str(rng.randint(1420070400000, 1893456000000))]))

seen = set()
unique = [l for l in lines if not (l in seen or seen.add(l))]
print("\n".join(unique))
