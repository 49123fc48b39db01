package pdf

import (
	"bytes"
	"image/png"

	"codeberg.org/go-pdf/fpdf"
)

// logo draws a PNG logo at x, y within maxW × maxH millimetres, keeping
// its shape, and returns the height it took (0 when there is none or it
// cannot be read, in which case the page goes on without it).
func (r *renderer) logo(data []byte, x, y, maxW, maxH float64) float64 {
	if len(data) == 0 {
		return 0
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return 0
	}
	w, h := maxH*float64(cfg.Width)/float64(cfg.Height), maxH
	if w > maxW {
		w, h = maxW, maxW*float64(cfg.Height)/float64(cfg.Width)
	}
	p := r.pdf
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	p.RegisterImageOptionsReader("school-logo", opts, bytes.NewReader(data))
	if p.Err() {
		p.ClearError()
		return 0
	}
	p.ImageOptions("school-logo", x, y, w, h, false, opts, 0, "")
	return h
}
