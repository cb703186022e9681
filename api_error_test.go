package beecloud

import "testing"

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
		if got := tt.code.String(); got != tt.want {
			t.Errorf("Code(%d).String() = %q; want %q", int(tt.code), got, tt.want)
		}
	}
}

// An unknown code is shown as its number alone, not as Code(N).
func TestAPIErrorUnknownCode(t *testing.T) {
	e := &APIError{Code: 99, Message: "SOMETHING_NEW"}
	if got, want := e.Error(), "beecloud: BeeCloud result_code 99: SOMETHING_NEW"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}
