package tracker

import "testing"

func TestDefaultGoal(t *testing.T) {
	cases := map[string]Goal{
		MetricTrainLoss: Minimize, MetricValLoss: Minimize, MetricValPPL: Minimize, MetricValBPC: Minimize,
		MetricValAcc: Maximize, MetricLR: Minimize, MetricTokensPerS: Maximize, MetricGradNorm: Minimize,
		"perplexity": Minimize, "test/accuracy": Maximize, "Val-F1": Maximize, "samples_per_sec": Maximize,
		MetricValColdBPC: Minimize, MetricValColdBPW: Minimize, MetricFreeRunningBPC: Minimize, MetricFreeRunningBPG: Minimize,
		"error_rate": Minimize, "accumulated_loss": Minimize, "score": Maximize,
	}
	for key, want := range cases {
		if got := DefaultGoal(key); got != want {
			t.Errorf("DefaultGoal(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestGoalBetter(t *testing.T) {
	if !Minimize.Better(1, 2) || Minimize.Better(2, 1) || Minimize.Better(1, 1) {
		t.Error("Minimize.Better wrong")
	}
	if !Maximize.Better(2, 1) || Maximize.Better(1, 2) || Maximize.Better(1, 1) {
		t.Error("Maximize.Better wrong")
	}
	if Goal("up").validate() == nil || Minimize.validate() != nil {
		t.Error("validate wrong")
	}
}

func TestMachineMetric(t *testing.T) {
	for key, want := range map[string]bool{
		"tokens_per_s": true, "Tokens_Per_S": true, "step_time": true, "eval_seconds": true, "samples_per_sec": true,
		"train_loss": false, "val_bpc": false, "lr": false, "grad_norm": false, "timeline": false, "val_acc": false,
	} {
		if got := MachineMetric(key); got != want {
			t.Errorf("MachineMetric(%q) = %v, want %v", key, got, want)
		}
	}
}
