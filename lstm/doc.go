// Package lstm is lstmlab's recurrent language model in GoMLX: a token embedding, stacked recurrent layers
// of one cell — an LSTM (the default), a GRU or a plain tanh RNN — and a linear head over the vocabulary,
// trained by truncated backpropagation through time with a hand-written backward pass.
//
// The files follow the model / train / sample cut of nanoGPT:
//
//   - model: config.go (every knob, the json keys users set), model.go (Model, the forward pass),
//     cell.go with cell_lstm.go, cell_gru.go, cell_rnn.go (everything cell-specific behind the Cell
//     interface), layer.go (the one layer loop and its backward pass), params.go (parameters and their
//     initialisation), flops.go;
//   - train: train.go (Trainer), recipe.go (where training meets the initial state: reset_prob,
//     epoch_offset), evaluate.go (Evaluate, EvaluateStream), writing.go (how a model writes: ColdStart,
//     FreeRunning), quality.go (ResetRows, ProfileFromZeroState), optim.go (Optimizer, learning-rate
//     schedule, clipping), checkpoint.go (Save, Load, ResumeTrainer), finetune.go, parts.go (a training
//     step's parts — Forward, Loss, ClipByGlobalNorm, NewExec — and BPTT, for writing the loop and checking
//     it by hand);
//   - sample: stepper.go (one token at a time), sampling.go (Sampler: temperature, top-k, top-p),
//     generate.go (prompts, Generate, decoding and stop strings), score.go (Score);
//   - look inside: inspect.go (RunCellStep, Trace, LayerWeights), predict.go (Predict, GradientNorms),
//     export.go (safetensors for PyTorch);
//   - run: backend.go (which backend a job opens: OpenBackend), graphs.go (compiled graphs cached per
//     model), watchdog.go (a stalled backend becomes ErrStalled).
//
// Shapes in comments are [batch, features]-style; within a window, rows are time-major (row t·B+b is
// stream b at time t). Errors name the config key or option at fault ("invalid lr: ..."); library code
// has no process-global side effects (see GoTrainingBackend for the one message GoMLX prints itself).
// Subpackages: text (tokenizers, corpora, splits, streams) and safetensors (the checkpoint file format).
package lstm
