package beecloudtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// TestPendingPreRefundsAreBounded checks that the pre-refunds waiting for
// approval do not outlive their bills: once the sandbox forgets a bill
// (past MaxBills), its pending pre-refund goes too, so that a long-running
// sandbox keeps bounded memory.
func TestPendingPreRefundsAreBounded(t *testing.T) {
	const maxBills = 3
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig})
	sb.MaxBills = maxBills
	sb.Start()
	t.Cleanup(sb.Close)
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	ctx := context.Background()

	var nos []string
	for i := range 3 * maxBills {
		no := beecloud.NewOutTradeNo()
		params, err := testConfig.Params(beecloud.Order{Title: "测试", Amount: 100, OutTradeNo: no})
		require.NoError(t, err)
		_, err = sb.Pay(appID, params, beecloud.ChannelAli)
		require.NoError(t, err)
		_, err = client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 10, NeedApproval: true})
		require.NoError(t, err, "pre-refund %d", i+1)
		nos = append(nos, no)
	}

	refunds := sb.Refunds()
	assert.LessOrEqual(t, len(refunds), maxBills, "pending pre-refunds kept")
	kept := map[string]bool{}
	for _, r := range refunds {
		assert.Equal(t, beecloudtest.RefundPending, r.State)
		kept[r.OutTradeNo] = true
	}
	for _, no := range nos[:len(nos)-maxBills] {
		assert.False(t, kept[no], "the pre-refund of forgotten bill %s is kept", no)
	}
	// The newest bill's pre-refund is kept, and can still be approved.
	last := nos[len(nos)-1]
	require.True(t, kept[last], "the newest bill's pre-refund is gone")
	pre, err := client.Refunds(ctx, beecloud.RefundQuery{OutTradeNo: last, NeedApproval: true})
	require.NoError(t, err)
	require.Len(t, pre, 1)
	res, err := client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{pre[0].ID}, Agree: true})
	require.NoError(t, err)
	assert.Equal(t, "OK", res.Results[pre[0].ID])
}
