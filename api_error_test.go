package beecloud

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeString(t *testing.T) {
	tests := []struct {
		code Code
		want string
	}{
		{CodeOK, "OK"},
		{CodeNoSuchBill, "NO_SUCH_BILL"},
		{CodeBillNoDuplicate, "BILL_NO_DUPLICATE"},
		{18, "Code(18)"},
		{-1, "Code(-1)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.code.String(), "Code(%d).String()", int(tt.code))
	}
}

// An unknown code is shown as its number alone, not as Code(N).
func TestAPIErrorUnknownCode(t *testing.T) {
	e := &APIError{Code: 99, Message: "SOMETHING_NEW"}
	assert.EqualError(t, e, "beecloud: BeeCloud result_code 99: SOMETHING_NEW", "Error()")
}
