package render

import (
	"encoding/csv"
	"io"
)

// writeCSV writes one table. A document with one section is written as is;
// with several (a comparison, whose sections share their columns: a label,
// then one column per run) each row is prefixed by its section title.
func writeCSV(w io.Writer, d document) error {
	cw := csv.NewWriter(w)
	if len(d.sections) == 1 {
		s := d.sections[0]
		cw.Write(s.header)
		for _, row := range s.rows {
			cw.Write(row)
		}
	} else {
		for i, s := range d.sections {
			if i == 0 {
				cw.Write(append([]string{"section"}, s.header...))
			}
			for _, row := range s.rows {
				cw.Write(append([]string{s.title}, row...))
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
