package lstm

// TrainFLOPsPerStep counts the floating-point operations of the matrix products in one training step
// of an LSTM language model, N = batch·seqLen tokens:
//
//	forward  = 2N · [ Σ_k 4H·(in_k + H)  +  H·V ]      in_0 = embed, in_k = H for k > 0
//	training = 3 × forward
//
// Per layer, 4H·in_k is the input projection and 4H·H the recurrent product; H·V is the head. The
// backward pass computes two products of the same size for each forward one (gradients of both
// operands), hence ×3 — the usual convention, which PyTorch's and cuDNN's counts follow too.
// Elementwise work (gates, softmax, optimizer) is not counted: at these sizes it is ~1% of the FLOPs,
// though not of the time.
func TrainFLOPsPerStep(layers, hidden, embed, vocab, batch, seqLen int) float64 {
	perToken := 0.0
	for k := range layers {
		in := embed
		if k > 0 {
			in = hidden
		}
		perToken += 4 * float64(hidden) * float64(in+hidden)
	}
	perToken += float64(hidden) * float64(vocab)
	return 3 * 2 * float64(batch*seqLen) * perToken
}
