// Package fonts holds the Go fonts every PDF of Signoff embeds, parsed
// once: UTF-8 text (accents, Ł, ë) prints without any font on disk.
package fonts

import (
	"fmt"
	"sync"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// The font families.
const (
	Sans = "gosans"
	Mono = "gomono"
)

// Face is one font: its family and style as fpdf names them, its bytes
// and the parsed font (to ask which characters it can draw).
type Face struct {
	Family, Style string
	TTF           []byte
	Parsed        *sfnt.Font
}

var (
	once  sync.Once
	err   error
	faces map[string]*Face
)

// Load returns every face, keyed by family+style ("gosansB").
func Load() (map[string]*Face, error) {
	once.Do(func() {
		list := []*Face{
			{Family: Sans, Style: "", TTF: goregular.TTF},
			{Family: Sans, Style: "B", TTF: gobold.TTF},
			{Family: Sans, Style: "I", TTF: goitalic.TTF},
			{Family: Sans, Style: "BI", TTF: gobolditalic.TTF},
			{Family: Mono, Style: "", TTF: gomono.TTF},
			{Family: Mono, Style: "B", TTF: gomonobold.TTF},
		}
		faces = make(map[string]*Face, len(list))
		for _, f := range list {
			p, perr := sfnt.Parse(f.TTF)
			if perr != nil {
				err = fmt.Errorf("fonts: parsing embedded font %s%s: %w", f.Family, f.Style, perr)
				return
			}
			f.Parsed = p
			faces[f.Family+f.Style] = f
		}
	})
	return faces, err
}
