// Package filter parses the run filter language of the tracker, in the
// spirit of MLflow's search syntax:
//
//	params.hidden >= 256 and metrics.val_bpc < 2.1 and status = finished order by metrics.val_loss desc
//
// Parse turns the text into a small syntax tree (Query, Expr, Field, Value);
// the tracker compiles that tree to parameterised SQL, so the text itself
// never reaches the database. A malformed filter yields an *Error giving the
// column and the offending token. See Parse for the grammar.
package filter
