package pdf

import (
	"strconv"

	"codeberg.org/go-pdf/fpdf"
	goqr "github.com/piglig/go-qr"
)

// QRLevel is a QR symbol's error correction: the share of it that can be
// lost and still read (the symbol gets more when it has room for it).
type QRLevel int

const (
	QRMedium QRLevel = iota // 15 %
	QRHigh                  // 30 %
)

// QRModules is the QR symbol of text, each row's modules dark (true) or
// light, with a quiet zone of border light modules around it. The mask is
// the one the standard's penalty rules choose.
func QRModules(text string, level QRLevel, border int) ([][]bool, error) {
	ecl := goqr.Medium
	if level == QRHigh {
		ecl = goqr.High
	}
	q, err := goqr.EncodeText(text, ecl)
	if err != nil {
		return nil, err
	}
	n := q.Size()
	bits := make([][]bool, n+2*border)
	for y := range bits {
		bits[y] = make([]bool, n+2*border)
		if y < border || y >= n+border {
			continue
		}
		for x := range n {
			bits[y][x+border] = q.Module(x, y-border)
		}
	}
	return bits, nil
}

// DrawQR fills, in p's fill colour, the dark modules of a QR symbol (bits
// as QRModules gives them) whose top-left corner is at (x, y),
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
