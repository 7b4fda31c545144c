package filter

import "testing"

// TestStringRoundTrip checks that the canonical form parses back to itself,
// so error messages and logs can quote it.
func TestStringRoundTrip(t *testing.T) {
	srcs := []string{
		"params.hidden >= 256 and (metrics.val_bpc < 2.1 or not status = failed)",
		"tags.`odd key` in ('a', 'b''c') order by best.val_loss desc, id",
		"name not like 'x%' and parent is not null",
	}
	for _, src := range srcs {
		q, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		canonical := q.String()
		q2, err := Parse(canonical)
		if err != nil {
			t.Fatalf("Parse(canonical %q): %v", canonical, err)
		}
		if q2.String() != canonical {
			t.Errorf("round trip of %q: %q became %q", src, canonical, q2.String())
		}
	}
}

func TestPos(t *testing.T) {
	q, err := Parse("status = finished and not params.a = 1")
	if err != nil {
		t.Fatal(err)
	}
	and := q.Where.(*Logical)
	if and.Pos() != 0 {
		t.Errorf("AND at %d, want 0", and.Pos())
	}
	if not := and.Right.(*Not); not.Pos() != 22 || not.X.Pos() != 26 {
		t.Errorf("NOT at %d, operand at %d; want 22 and 26", not.Pos(), not.X.Pos())
	}
}

func TestCompareOpString(t *testing.T) {
	if Ge.String() != ">=" || NotILike.String() != "NOT ILIKE" || CompareOp(99).String() != "CompareOp(99)" {
		t.Errorf("unexpected operator names: %s %s %s", Ge, NotILike, CompareOp(99))
	}
	if !Like.IsPattern() || Eq.IsPattern() {
		t.Error("IsPattern wrong")
	}
}
