package beecloud

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
)

// Sign returns the order signature that BC.click expects in data.sign: the
// lowercase hex MD5 of the UTF-8 bytes of appID + title + amount +
// outTradeNo + appSecret, with amount written as a decimal integer in 分
// ("150", never "1.50" or "1.5e+02").
//
// Sign does not validate its arguments; [Config.Params] does. It agrees
// byte for byte with the reference code in Java, PHP, C#, Python and
// Node.js that BeeCloud published. Its only allocation is the result
// when the whole message fits in 256 bytes, as it does for valid orders.
func Sign(appID, title string, amount int64, outTradeNo, appSecret string) string {
	var buf [256]byte // holds the whole message for any order that validates
	msg := append(buf[:0], appID...)
	msg = append(msg, title...)
	msg = strconv.AppendInt(msg, amount, 10)
	msg = append(msg, outTradeNo...)
	msg = append(msg, appSecret...)
	return md5Hex(msg)
}

// SignString returns the exact text whose MD5 is the order signature:
// appID + title + amount + outTradeNo + appSecret. It exists for debugging
// a sign mismatch by comparing it with what another implementation hashed;
// it contains the secret, so never log it.
func SignString(appID, title string, amount int64, outTradeNo, appSecret string) string {
	return appID + title + strconv.FormatInt(amount, 10) + outTradeNo + appSecret
}

// md5Hex returns the lowercase hex MD5 of msg.
func md5Hex(msg []byte) string {
	out := md5HexArray(msg)
	return string(out[:])
}

func md5HexArray(msg []byte) [2 * md5.Size]byte {
	sum := md5.Sum(msg)
	var out [2 * md5.Size]byte
	hex.Encode(out[:], sum[:])
	return out
}

// WebhookSignature returns the signature BeeCloud puts in a webhook's
// "signature" field (the scheme in use since 2017): the lowercase hex MD5
// of appID + transactionID + transactionType + channelType +
// transactionFee + masterSecret, with the fee as a decimal integer in 分.
func WebhookSignature(appID, transactionID string, transactionType TransactionType, channelType ChannelType, transactionFee int64, masterSecret string) string {
	sig := webhookSignature(appID, transactionID, transactionType, channelType, transactionFee, masterSecret)
	return string(sig[:])
}

// webhookSignature is WebhookSignature without the string.
func webhookSignature(appID, transactionID string, transactionType TransactionType, channelType ChannelType, transactionFee int64, masterSecret string) [2 * md5.Size]byte {
	var buf [256]byte
	msg := append(buf[:0], appID...)
	msg = append(msg, transactionID...)
	msg = append(msg, transactionType...)
	msg = append(msg, channelType...)
	msg = strconv.AppendInt(msg, transactionFee, 10)
	msg = append(msg, masterSecret...)
	return md5HexArray(msg)
}

// LegacyWebhookSign returns the signature of BeeCloud's legacy webhook
// scheme (field "sign", 2015 to 2017): the lowercase hex MD5 of appID +
// secret + timestamp, where secret is the App Secret, or the Test Secret
// for test-mode messages, and timestamp is in milliseconds.
func LegacyWebhookSign(appID, secret string, timestampMillis int64) string {
	var buf [128]byte
	msg := append(buf[:0], appID...)
	msg = append(msg, secret...)
	msg = strconv.AppendInt(msg, timestampMillis, 10)
	return md5Hex(msg)
}
