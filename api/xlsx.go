package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// csvToXLSX writes the table a report's CSV writer produced as a one-sheet
// workbook (R8.2: managers open reports in a spreadsheet). The CSV writers
// stay the one definition of each report's columns; here a cell that
// parses as a number becomes a number, so sums and charts work, and the
// header row is frozen.
func csvToXLSX(w io.Writer, sheet string, table []byte) error {
	rows, err := csv.NewReader(bytes.NewReader(table)).ReadAll()
	if err != nil {
		return fmt.Errorf("xlsx: reading the table: %w", err)
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	// The header row stays in view (panes must precede the rows).
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
			if i > 0 {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					cells[j] = n
				}
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, cells); err != nil {
			return fmt.Errorf("xlsx: row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return f.Write(w)
}
