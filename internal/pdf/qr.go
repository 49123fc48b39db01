package pdf

import (
	"strconv"

	"codeberg.org/go-pdf/fpdf"
)

// DrawQR fills, in p's fill colour, the dark modules of a QR symbol (bits
// as go-qrcode's Bitmap gives them) whose top-left corner is at (x, y),
// each module module millimetres square. Each row's runs of dark modules
// are rectangles of one path, filled once, so that renderers leave no
// seams between neighbouring modules. The symbol is vector drawing, not an
// image (no PNG to encode, decode and compress again for every document),
// written as one string of PDF path operators: a few hundred fpdf path
// calls would each format their numbers through fmt.
func DrawQR(p *fpdf.Fpdf, bits [][]bool, x, y, module float64) {
	k := p.GetConversionRatio()
	_, pageH := p.GetPageSize()
	num := func(b []byte, v float64) []byte { return append(strconv.AppendFloat(b, v, 'f', 2, 64), ' ') }
	var b []byte
	for row, line := range bits {
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			// PDF's rectangle: lower-left corner in points, y upwards.
			b = num(b, (x+float64(start)*module)*k)
			b = num(b, (pageH-y-float64(row+1)*module)*k)
			b = num(b, float64(col-start)*module*k)
			b = num(b, module*k)
			b = append(b, "re\n"...)
		}
	}
	if len(b) > 0 {
		p.RawWriteStr(string(b) + "f")
	}
}
