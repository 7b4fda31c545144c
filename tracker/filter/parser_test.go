package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", ""},
		{"   ", ""},
		{"params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished",
			"((params.hidden >= 256 AND metrics.val_bpc < 2.1) AND status = 'finished')"},
		{"tags.x = 'y'", "tags.x = 'y'"},
		{`tags.x == "y"`, "tags.x = 'y'"},
		{"name like 'moby%'", "name LIKE 'moby%'"},
		{"name not ilike '%TINY%'", "name NOT ILIKE '%TINY%'"},
		{"status in (finished, 'failed')", "status IN ('finished', 'failed')"},
		{"params.optimizer not in ('adam','sgd')", "params.optimizer NOT IN ('adam', 'sgd')"},
		{"parent is null", "parent IS NULL"},
		{"metrics.val_acc is not null", "metrics.val_acc IS NOT NULL"},
		{"params.a = 1 or params.b = 2 and params.c = 3", "(params.a = 1 OR (params.b = 2 AND params.c = 3))"},
		{"(params.a = 1 or params.b = 2) and params.c = 3", "((params.a = 1 OR params.b = 2) AND params.c = 3)"},
		{"not params.a = 1 and params.b != 2", "(NOT params.a = 1 AND params.b != 2)"},
		{"params.a <> -1.5e-3", "params.a != -1.5e-3"},
		{"params.dropout = true", "params.dropout = true"},
		{"PARAMS.lr > .001 AND Status = Running", "(params.lr > .001 AND status = 'Running')"},
		{"metrics.`val loss` < 2", "metrics.`val loss` < 2"},
		{"tags.`and` = 'x'", "tags.and = 'x'"},
		{"tags.`a b` = 'x'", "tags.`a b` = 'x'"},
		{"attributes.status = 'failed'", "status = 'failed'"},
		{"start_time > '2024-01-01'", "start > '2024-01-01'"},
		{"best.val_loss < 1.4 order by best.val_loss", "best.val_loss < 1.4 ORDER BY best.val_loss ASC"},
		{"order by metrics.val_loss desc, start", "ORDER BY metrics.val_loss DESC, start ASC"},
		{"name = 'it''s'", "name = 'it''s'"},
		{`name = 'a\'b'`, "name = 'a''b'"},
		{"metrics.val.bpc < 3", "metrics.val.bpc < 3"},
		{"name = 'δοκιμή'", "name = 'δοκιμή'"},
		{`metrics."cross-entropy-loss" < 2`, "metrics.`cross-entropy-loss` < 2"},
		{`tags."a""b" = 'x'`, "tags.`a\"b` = 'x'"},
		{"attributes.run_id = 'abc'", "run_id = 'abc'"},
		{"run.run_id in ('1', 2)", "run_id IN ('1', 2)"},
		{"created > 1700000000000", "start > 1700000000000"},
		{`name like '50\%\_x\\y%'`, `name LIKE '50\%\_x\\y%'`},
		{`name = 'a\\b'`, `name = 'a\\b'`},
		{"active_time > 60", "active > 60"},
	}
	for _, c := range cases {
		q, err := Parse(c.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.src, err)
			continue
		}
		if got := q.String(); got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	q, err := Parse("params.hidden = 256 and params.lr = 1e-3 and params.x = 'str' and params.b = FALSE")
	if err != nil {
		t.Fatal(err)
	}
	var got []Value
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Logical:
			walk(e.Left)
			walk(e.Right)
		case *Compare:
			got = append(got, e.Value)
		}
	}
	walk(q.Where)
	if len(got) != 4 {
		t.Fatalf("got %d values, want 4", len(got))
	}
	if v := got[0]; v.Kind != Number || !v.IsInt || v.Int != 256 || v.Num != 256 {
		t.Errorf("256 parsed as %+v", v)
	}
	if v := got[1]; v.Kind != Number || v.IsInt || v.Num != 1e-3 {
		t.Errorf("1e-3 parsed as %+v", v)
	}
	if v := got[2]; v.Kind != String || v.Text != "str" {
		t.Errorf("'str' parsed as %+v", v)
	}
	if v := got[3]; v.Kind != Bool || v.Bool {
		t.Errorf("FALSE parsed as %+v", v)
	}
}

func TestParseFieldKinds(t *testing.T) {
	q, err := Parse("params.a = 1 and metric.b = 1 and best.c = 1 and tag.d = 1 and run_name = x")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{Kind: Param, Name: "a"}, {Kind: Metric, Name: "b"}, {Kind: Best, Name: "c"}, {Kind: Tag, Name: "d"}, {Kind: Attribute, Name: "name"}}
	var got []Field
	var walk func(Expr)
	walk = func(e Expr) {
		switch e := e.(type) {
		case *Logical:
			walk(e.Left)
			walk(e.Right)
		case *Compare:
			got = append(got, e.Field)
		}
	}
	walk(q.Where)
	if len(got) != len(want) {
		t.Fatalf("got %d fields", len(got))
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Name != want[i].Name {
			t.Errorf("field %d = %+v, want kind %d name %q", i, got[i], want[i].Kind, want[i].Name)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		src    string
		column int
		token  string
		msg    string
	}{
		{"params.hidden >= and", 18, "and", "expected a value"},
		{"params.hidden >=", 17, "", "expected a value"},
		{"params.hidden 256", 15, "256", "expected an operator"},
		{"params.hidden", 14, "", "expected an operator"},
		{"foo = 1", 1, "foo", "unknown field"},
		{"parms.hidden = 1", 1, "parms.hidden", "unknown prefix"},
		{"params. = 1", 1, "params.", "missing name"},
		{"status = finished and", 22, "", "expected a field"},
		{"status = finished status = failed", 19, "status", "expected and, or, order by"},
		{"(status = finished", 19, "", `expected ")"`},
		{"status = 'finished", 10, "'finished", "unterminated string"},
		{"params.hidden = 256k", 17, "256k", "invalid number"},
		{"status ! finished", 8, "!", "did you mean !="},
		{"status = finished; drop table runs", 18, ";", "unexpected character"},
		{"name in ('a' 'b')", 14, "'b'", `expected "," or ")"`},
		{"name not between 1", 10, "between", "expected in, like or ilike"},
		{"name like 3", 11, "3", "quoted pattern"},
		{"name is 3", 9, "3", "expected null"},
		{"params.a = params.b", 12, "params.b", "comparing two fields"},
		{"order metrics.x", 7, "metrics.x", "expected by"},
		{"order by", 9, "", "expected a field"},
		{"params.a = 1e999", 12, "1e999", "out of range"},
		{"metrics.`x = 1", 9, "`x = 1", "unterminated backquoted"},
		{"δ = 1", 1, "δ", "unknown field"},
		{"name = 'ok' and = 3", 17, "=", "expected a field"},
		{"metrics.cross-entropy-loss < 1", 1, "metrics.cross-entropy-loss", `quoted: metrics."cross-entropy-loss" or metrics.`},
		{"params.a-1 = 2", 1, "params.a-1", "a key with a dash must be quoted"},
		{`metrics."x = 1`, 9, `"x = 1`, "unterminated quoted name"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%q) error = %v, want *Error", c.src, err)
			continue
		}
		if fe.Column != c.column || fe.Token != c.token || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("Parse(%q) = column %d token %q msg %q; want column %d token %q msg containing %q",
				c.src, fe.Column, fe.Token, fe.Msg, c.column, c.token, c.msg)
		}
		if !strings.Contains(err.Error(), "column") {
			t.Errorf("Parse(%q) error %q does not name a column", c.src, err)
		}
	}
}

func TestParseInvalidUTF8(t *testing.T) {
	_, err := Parse("name = \xff")
	var fe *Error
	if !errors.As(err, &fe) || fe.Column != 8 || !strings.Contains(fe.Msg, "UTF-8") {
		t.Fatalf("got %v, want an invalid UTF-8 error at column 8", err)
	}
}

func TestParseOrder(t *testing.T) {
	cases := []struct{ src, want string }{
		{"metrics.val_loss", "metrics.val_loss ASC"},
		{"metrics.val_loss desc, name", "metrics.val_loss DESC, name ASC"},
		{"order by start desc", "start DESC"},
	}
	for _, c := range cases {
		order, err := ParseOrder(c.src)
		if err != nil {
			t.Errorf("ParseOrder(%q): %v", c.src, err)
			continue
		}
		if got := OrderString(order); got != c.want {
			t.Errorf("ParseOrder(%q) = %q, want %q", c.src, got, c.want)
		}
	}
	if order, err := ParseOrder(""); err != nil || order != nil {
		t.Errorf("ParseOrder(\"\") = %v, %v; want nil, nil", order, err)
	}
	if _, err := ParseOrder("metrics.val_loss sideways"); err == nil || !strings.Contains(err.Error(), `"sideways"`) {
		t.Errorf("ParseOrder with a bad direction: %v", err)
	}
}

func TestAttributes(t *testing.T) {
	attrs := Attributes()
	for _, want := range []string{"id", "name", "status", "experiment", "start", "parent"} {
		found := false
		for _, a := range attrs {
			found = found || a == want
		}
		if !found {
			t.Errorf("Attributes() lacks %q: %v", want, attrs)
		}
	}
	for i := 1; i < len(attrs); i++ {
		if attrs[i-1] >= attrs[i] {
			t.Errorf("Attributes() not sorted and unique: %v", attrs)
		}
	}
}
