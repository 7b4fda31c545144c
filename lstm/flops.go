package lstm

// TrainFLOPsPerStep counts the floating-point operations of the matrix products in one training step of
// the language model cfg describes (cfg.BatchSize × cfg.SeqLen = N tokens, its cell with G =
// Cell.Blocks() gate blocks: 4 LSTM, 3 GRU, 1 RNN) over a vocabulary of vocab tokens:
//
//	forward  = 2N · [ Σ_k G·H·(in_k + H)  +  H·V ]      in_0 = embed, in_k = H for k > 0
//	training = 3 × forward
//
// Per layer, G·H·in_k is the input projection and G·H·H the recurrent product; H·V is the head. The
// backward pass computes two products of the same size for each forward one (gradients of both
// operands), hence ×3 — the usual convention, which PyTorch's and cuDNN's counts follow too. These are
// the model's FLOPs, as PyTorch's would be counted: the GRU's fused product computes a zero block more
// (see gruCell), which is not counted. Elementwise work (gates, softmax, optimizer) is not counted
// either: at these sizes it is ~1% of the FLOPs, though not of the time.
func TrainFLOPsPerStep(cfg Config, vocab int) float64 {
	gates, hidden := float64(cfg.cell().Blocks()), float64(cfg.Hidden)
	perToken := 0.0
	for k := range cfg.Layers {
		perToken += gates * hidden * float64(layerInput(cfg, k)+cfg.Hidden)
	}
	perToken += hidden * float64(vocab)
	return 3 * 2 * float64(cfg.BatchSize*cfg.SeqLen) * perToken
}
