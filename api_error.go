package beecloud

import (
	"errors"
	"strconv"
	"strings"
)

// Code is a result_code of BeeCloud's REST API, as [APIError].Code
// carries it. BeeCloud's SDKs spell the names differently: match on the
// number, with the constants below.
type Code int

// The result codes of BeeCloud's REST API.
const (
	CodeOK                   Code = 0  // success
	CodeAppInvalid           Code = 1  // unknown app, bad app_sign or stale timestamp
	CodePayFactorNotSet      Code = 2  // the channel's credentials are not set up
	CodeChannelInvalid       Code = 3  // unknown or disabled channel
	CodeMissParam            Code = 4  // a required parameter is missing
	CodeParamInvalid         Code = 5  // a parameter has a bad value
	CodeCertFileError        Code = 6  // the channel's certificate is wrong
	CodeChannelError         Code = 7  // the channel refused or failed
	CodeNoSuchBill           Code = 8  // no bill with that bill_no or id
	CodeBillUnsuccess        Code = 9  // the bill is not paid, so it cannot be refunded
	CodeRefundExceedTime     Code = 10 // the bill is too old to be refunded
	CodeAlreadyRefunding     Code = 11 // a refund of the bill is under way
	CodeRefundAmountTooLarge Code = 12 // the refund exceeds what is left of the bill
	CodeNoSuchRefund         Code = 13 // no refund with that refund_no or id
	CodeRuntimeError         Code = 14 // BeeCloud failed
	CodeNetworkError         Code = 15 // BeeCloud could not reach the channel
	CodePrerefundDuplicate   Code = 16 // a pre-refund with that refund_no exists
	CodeBillNoDuplicate      Code = 17 // the bill_no is already used
)

var codeNames = [...]string{
	"OK", "APP_INVALID", "PAY_FACTOR_NOT_SET", "CHANNEL_INVALID", "MISS_PARAM",
	"PARAM_INVALID", "CERT_FILE_ERROR", "CHANNEL_ERROR", "NO_SUCH_BILL",
	"BILL_UNSUCCESS", "REFUND_EXCEED_TIME", "ALREADY_REFUNDING",
	"REFUND_AMOUNT_TOO_LARGE", "NO_SUCH_REFUND", "RUNTIME_ERROR",
	"NETWORK_ERROR", "PREREFUND_DUPLICATE", "BILL_NO_DUPLICATE",
}

// String returns BeeCloud's name for c, such as "NO_SUCH_BILL" for
// [CodeNoSuchBill], or "Code(N)" for a code it does not know.
func (c Code) String() string {
	if !c.known() {
		return "Code(" + strconv.Itoa(int(c)) + ")"
	}
	return codeNames[c]
}

func (c Code) known() bool { return c >= 0 && int(c) < len(codeNames) }

// APIError is an answer of BeeCloud's REST API with a non-zero result_code:
// BeeCloud understood the request and refused it. It is returned, wrapped
// with the operation, for every such answer, whatever its HTTP status (a
// 4xx status included); find it with errors.As. Failures where BeeCloud
// gave no result_code (an error page, a reset connection, a timeout) are
// other errors.
type APIError struct {
	// Code is the result_code, such as [CodeNoSuchBill].
	Code Code
	// Message is the result_msg, such as "NO_SUCH_BILL".
	Message string
	// Detail is the err_detail, BeeCloud's explanation; it may be empty.
	Detail string
	// HTTPStatus is the HTTP status of the answer.
	HTTPStatus int
}

// Error returns "beecloud: BeeCloud result_code CODE (NAME): MESSAGE:
// DETAIL". It holds only what BeeCloud answered, never a secret.
func (e *APIError) Error() string { return "beecloud: " + e.text() }

// text is the message without the package prefix.
func (e *APIError) text() string {
	var b strings.Builder
	b.WriteString("BeeCloud result_code ")
	b.WriteString(strconv.Itoa(int(e.Code)))
	var name string
	if e.Code.known() {
		name = e.Code.String()
		b.WriteString(" (")
		b.WriteString(name)
		b.WriteString(")")
	}
	if e.Message != "" && e.Message != name {
		b.WriteString(": ")
		b.WriteString(shortText(e.Message, 200))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(shortText(e.Detail, 500))
	}
	return b.String()
}

// shortText cuts s to at most n bytes, on a rune boundary, marking the cut.
func shortText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !startsRune(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }

// opError is an *APIError with the call it answered.
type opError struct {
	op  string
	err *APIError
}

func (e *opError) Error() string { return "beecloud: " + e.op + ": " + e.err.text() }
func (e *opError) Unwrap() error { return e.err }

// Errors of the [Client], matched with errors.Is.
var (
	// ErrInvalidRequest means a request was refused before it was sent;
	// the error is a *[ValidationError] naming each bad field.
	ErrInvalidRequest = errors.New("beecloud: invalid request")
	// ErrUnknownOutcome means a request that moves money (a refund or an
	// approval) may or may not have taken effect: its answer was lost and
	// looking it up did not settle the question. Settle it later by its
	// number ([Client.RefundOutcome] for a refund), and never send a new
	// request for the same money until it is settled.
	ErrUnknownOutcome = errors.New("beecloud: outcome unknown")
)

// problems collects the problems of one request.
type problems struct {
	op   string
	list []FieldError
}

func (p *problems) add(field, reason string) {
	p.list = append(p.list, FieldError{Field: field, Reason: reason})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Op: p.op, Problems: p.list}
}
