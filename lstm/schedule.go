package lstm

import "math"

// LRAnchor restarts the learning-rate schedule of a resumed run whose schedule settings changed (more
// steps, another lr): from Step on, a cosine schedule decays from LR (the rate the run had reached,
// scaled by new lr / old lr) to lr·decay_rate at the new cfg.Steps, instead of being re-stretched
// over the whole run, which would make the rate jump (say 3.0e-4 → 4.4e-4 at the first new step).
// Warm-up, "step" and "none" schedules do not depend on cfg.Steps and ignore it.
type LRAnchor struct {
	Step int     `json:"step"` // first step of the restarted schedule
	LR   float64 `json:"lr"`   // rate at Step
}

// ScheduledLR is the learning rate at step: LearningRate(cfg, step), or after a, the anchored cosine
// (see LRAnchor).
func ScheduledLR(cfg Config, a *LRAnchor, step int) float64 {
	if a == nil || cfg.Decay != "cosine" || step < a.Step || step < cfg.Warmup {
		return LearningRate(cfg, step)
	}
	floor := cfg.LR * cfg.DecayRate
	span := max(cfg.Steps-a.Step, 1)
	progress := math.Min(1, float64(step-a.Step)/float64(span))
	return floor + (a.LR-floor)*0.5*(1+math.Cos(math.Pi*progress))
}

// ReanchorLR returns the anchor a run resumed at step needs when its config changes from old to cfg
// (nil when the schedule needs none: same settings, a schedule that does not depend on Steps, or a
// step still in warm-up). prev is the run's current anchor. The rate continues from the one reached
// at step, scaled by cfg.LR/old.LR when lr changes; a cosine run resumed after its last step (its
// rate at the floor) continues at that rate.
func ReanchorLR(old Config, prev *LRAnchor, cfg Config, step int) *LRAnchor {
	if cfg.Decay != "cosine" || step < cfg.Warmup {
		return prev
	}
	if old.Steps == cfg.Steps && old.LR == cfg.LR && old.DecayRate == cfg.DecayRate && old.Decay == cfg.Decay {
		return prev
	}
	reached := ScheduledLR(old, prev, step)
	return &LRAnchor{Step: step, LR: reached * cfg.LR / old.LR}
}
