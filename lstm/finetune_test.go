package lstm

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestFineTuneCopyKeepsOldRowsAndGrowsVocab(t *testing.T) {
	parent, _ := tinyModel(t, tinyText, nil)
	vocab := parent.Vocab.Clone()
	added, err := vocab.Extend("zebra quiz XYZ")
	if err != nil || len(added) == 0 {
		t.Fatalf("extend: %v %v", added, err)
	}
	cfg := parent.Config
	cfg.LR, cfg.Hidden = 1e-4, 999 // the shape must come from the parent, whatever cfg says
	child, err := parent.FineTuneCopy(cfg, vocab, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	if child.Config.Hidden != parent.Config.Hidden || child.Config.LR != 1e-4 {
		t.Fatalf("child config %+v", child.Config)
	}
	oldV, newV, E, H := parent.Vocab.Size(), vocab.Size(), parent.Config.EmbedDim, parent.Config.Hidden
	pe := tensors.MustCopyFlatData[float32](parent.Store.GetVariable(ParamEmbedding).MustValue())
	ce := tensors.MustCopyFlatData[float32](child.Store.GetVariable(ParamEmbedding).MustValue())
	if len(ce) != newV*E || !slices.Equal(ce[:oldV*E], pe) {
		t.Fatal("embedding rows of old tokens changed")
	}
	pw := tensors.MustCopyFlatData[float32](parent.Store.GetVariable(ParamDecoderWeight).MustValue())
	cw := tensors.MustCopyFlatData[float32](child.Store.GetVariable(ParamDecoderWeight).MustValue())
	for h := range H {
		if !slices.Equal(cw[h*newV:h*newV+oldV], pw[h*oldV:(h+1)*oldV]) {
			t.Fatalf("head row %d changed for old tokens", h)
		}
	}
	if child.Store.GetVariable(slotPath("m", ParamEmbedding)) != nil {
		t.Error("optimizer state was copied into the child")
	}
}

func TestFineTuneCopyRejectsForeignVocab(t *testing.T) {
	parent, _ := tinyModel(t, tinyText, nil)
	other, _ := tinyModel(t, "completely different text!", nil)
	if _, err := parent.FineTuneCopy(parent.Config, other.Vocab, testBackend(t)); err == nil || !strings.Contains(err.Error(), "extend") {
		t.Fatalf("err = %v", err)
	}
}

func TestParamGroups(t *testing.T) {
	m, _ := tinyModel(t, tinyText, nil)
	g := m.ParamGroups()
	if len(g["lstm.1"]) != 3 || g["embedding"][0] != ParamEmbedding || len(g["decoder"]) != 2 {
		t.Fatalf("groups %v", g)
	}
}
