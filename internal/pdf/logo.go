package pdf

import (
	"bytes"
	"image/png"

	"codeberg.org/go-pdf/fpdf"
)

// logo draws a PNG logo at x, y within maxW × maxH millimetres (see DrawLogo).
func (r *renderer) logo(data []byte, x, y, maxW, maxH float64) float64 {
	return DrawLogo(r.pdf, data, x, y, maxW, maxH)
}

// DrawLogo draws the school's PNG logo on p at x, y within maxW × maxH
// millimetres, keeping its shape, and returns the height it took (0 when
// there is none or it cannot be read, in which case the page goes on
// without it). The image is embedded once however often it is drawn.
func DrawLogo(p *fpdf.Fpdf, data []byte, x, y, maxW, maxH float64) float64 {
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
	const name = "school-logo"
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	if p.GetImageInfo(name) == nil {
		p.RegisterImageOptionsReader(name, opts, bytes.NewReader(data))
		if p.Err() {
			p.ClearError()
			return 0
		}
	}
	p.ImageOptions(name, x, y, w, h, false, opts, 0, "")
	return h
}
