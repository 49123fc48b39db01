package pdf

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png" // drawn signatures are PNG
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// Certificate is the evidence printed on the last page of a signed copy:
// who signed, how they were identified, what they answered, when, from
// where, and how to check the copy.
type Certificate struct {
	ForChild     string   // "Amira Khan, Year 3 (3K)" when signed for a child
	IdentifiedBy string   // "Their password", "A single-use sign-in link sent to …", "Their family link"
	Method       string   // "Online", "In class, witnessed by …", "On paper, recorded by … on …"
	Answers      []Answer // consent answers, in the form's order
	IP           string
	UserAgent    string
	// DeviceWithheld marks a copy for someone other than the signer and
	// the school office: the IP address and browser are left out (the
	// record and its seal keep them).
	DeviceWithheld bool
	VerifyURL      string // printed with its QR code
	// DrawnSignature is a PNG, or nil. An image that cannot be read is
	// reported on the page rather than failing the copy.
	DrawnSignature []byte
}

// Answer is one consent question and its answer.
type Answer struct {
	Item  string
	Value string // "Yes", "No"
}

// certificate draws the certificate page.
func (r *renderer) certificate() error {
	p := r.pdf
	c := r.c
	cert := c.Certificate
	r.setLeft(pageMarginX)
	r.pending = 0
	r.flushNewline()
	p.AddPage()
	width := r.contentWidth()

	r.useFont(famSans, "B", 9)
	r.setTextColor(colAccent)
	p.SetXY(pageMarginX, pageMarginTop)
	p.CellFormat(width, 5, "CERTIFICATE OF SIGNATURE", "", 1, "L", false, 0, "")
	r.useFont(famSans, "B", 16)
	r.setTextColor(colHeading)
	p.SetX(pageMarginX)
	r.wrapLines(r.printable(clean(c.PolicyTitle), famSans, "B"), width, 7.5)
	r.useFont(famSans, "", 10)
	r.setTextColor(colMuted)
	p.SetX(pageMarginX)
	r.wrapLines(r.printable(clean(c.SchoolName), famSans, "")+" · "+r.versionLine(), width, 5)
	y := p.GetY() + 3
	r.setDrawColor(colAccent)
	p.SetLineWidth(0.5)
	p.Line(pageMarginX, y, pageMarginX+width, y)
	p.SetLineWidth(0.2)
	p.SetY(y + 4)
	r.useFont(famSans, "", 9.5)
	r.setTextColor(colText)
	p.SetX(pageMarginX)
	r.wrapLines("This page records how the signature on the previous pages was given. Signoff keeps the same record, "+
		"which cannot be changed or deleted; the link and QR code below show whether this copy matches it.", width, 4.8)
	p.SetY(p.GetY() + 3)

	type row struct {
		label, value string
		oneLine      bool
	}
	rows := []row{{label: "Signed by", value: clean(c.SignerName)}}
	if s := strings.TrimSpace(clean(c.SignerRole)); s != "" {
		rows = append(rows, row{label: "Role", value: s})
	}
	if s := strings.TrimSpace(clean(cert.ForChild)); s != "" {
		rows = append(rows, row{label: "For the child", value: s})
	}
	if s := strings.TrimSpace(clean(cert.IdentifiedBy)); s != "" {
		rows = append(rows, row{label: "How they were identified", value: s})
	}
	if s := strings.TrimSpace(clean(cert.Method)); s != "" {
		rows = append(rows, row{label: "How they signed", value: s})
	}
	if s := strings.TrimSpace(clean(c.Statement)); s != "" {
		rows = append(rows, row{label: "Statement agreed to", value: s})
	}
	for _, a := range cert.Answers {
		rows = append(rows, row{label: "Answer: " + clean(a.Item), value: clean(a.Value)})
	}
	if s := strings.TrimSpace(clean(c.TypedSignature)); s != "" {
		rows = append(rows, row{label: "Typed signature", value: s})
	}
	ip, ua := orNone(clean(cert.IP)), orNone(clean(cert.UserAgent))
	if cert.DeviceWithheld {
		ip, ua = withheld, withheld
	}
	rows = append(rows,
		row{label: "Server time", value: c.dateTime(c.SignedAt) + "; " + c.SignedAt.UTC().Format("2006-01-02T15:04:05Z")},
		row{label: "IP address", value: ip, oneLine: !cert.DeviceWithheld},
		row{label: "Browser (user agent)", value: ua},
		row{label: "SHA-256 of the version text", value: c.SHA256, oneLine: true},
	)
	if s := strings.TrimSpace(clean(c.Reference)); s != "" {
		rows = append(rows, row{label: "Signature reference", value: s, oneLine: true})
	}

	const labelW, lineH, gap = 52.0, 5.0, 2.2
	valueW := width - labelW
	for _, rw := range rows {
		size := 10.0
		if rw.oneLine {
			size = 9.0
		}
		value := r.printable(rw.value, famSans, "")
		r.useFont(famSans, "", size)
		for size > 6 && rw.oneLine && p.GetStringWidth(value) > valueW {
			size -= 0.25
			r.useFont(famSans, "", size)
		}
		lines := p.SplitText(value, valueW)
		if len(lines) == 0 {
			lines = []string{""}
		}
		r.useFont(famSans, "B", 9)
		labels := p.SplitText(r.printable(rw.label, famSans, "B"), labelW-3)
		h := float64(max(len(lines), len(labels)))*lineH + gap
		r.ensureSpace(h)
		y := p.GetY()
		r.setTextColor(colMuted)
		for i, l := range labels {
			p.SetXY(pageMarginX, y+float64(i)*lineH)
			p.CellFormat(labelW-3, lineH, l, "", 0, "L", false, 0, "")
		}
		r.useFont(famSans, "", size)
		r.setTextColor(colText)
		for i, l := range lines {
			p.SetXY(pageMarginX+labelW, y+float64(i)*lineH)
			p.CellFormat(valueW, lineH, l, "", 0, "L", false, 0, "")
		}
		p.SetY(y + h - gap)
		r.setDrawColor(colRule)
		p.Line(pageMarginX, p.GetY()+gap/2, pageMarginX+width, p.GetY()+gap/2)
		p.SetY(p.GetY() + gap)
	}

	if len(cert.DrawnSignature) > 0 {
		r.drawnSignature(cert.DrawnSignature, labelW, valueW)
	}
	if cert.VerifyURL != "" {
		if err := r.verifyBlock(cert.VerifyURL, width); err != nil {
			return err
		}
	}
	return nil
}

// withheld stands for the IP address and browser on a copy for someone
// other than the signer and the office.
const withheld = "Recorded; shown only to the signer and the school office"

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "Not recorded"
	}
	return s
}

// maxImageSide is the most pixels across or down of an image we embed.
const maxImageSide = 4000

// drawnSignature places the signer's drawn signature, scaled to fit a
// 70 × 28 mm box.
func (r *renderer) drawnSignature(png []byte, labelW, valueW float64) {
	p := r.pdf
	const boxW, boxH = 70.0, 28.0
	r.ensureSpace(boxH + 4)
	y := p.GetY() + 1
	r.useFont(famSans, "B", 9)
	r.setTextColor(colMuted)
	p.SetXY(pageMarginX, y)
	p.CellFormat(labelW-3, 5, "Drawn signature", "", 0, "L", false, 0, "")
	unshown := func() {
		r.useFont(famSans, "I", 10)
		r.setTextColor(colText)
		p.SetXY(pageMarginX+labelW, y)
		p.CellFormat(valueW, 5, "A drawn signature is stored but could not be shown here.", "", 0, "L", false, 0, "")
		p.SetY(y + 7)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(png))
	// The header is read first: an image claiming more pixels than a
	// drawn signature could have (a record stored before they were
	// refused) is described, never decoded.
	if err != nil || format != "png" || cfg.Width == 0 || cfg.Height == 0 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
		unshown()
		return
	}
	w, h := boxW, boxW*float64(cfg.Height)/float64(cfg.Width)
	if h > boxH {
		w, h = boxH*float64(cfg.Width)/float64(cfg.Height), boxH
	}
	opts := fpdf.ImageOptions{ImageType: "PNG"}
	p.RegisterImageOptionsReader("drawn-signature", opts, bytes.NewReader(png))
	if p.Err() {
		// fpdf could not read it after all: say so, and carry on.
		p.ClearError()
		unshown()
		return
	}
	r.setDrawColor(colRule)
	p.Rect(pageMarginX+labelW, y, boxW, boxH, "D")
	p.ImageOptions("drawn-signature", pageMarginX+labelW+(boxW-w)/2, y+(boxH-h)/2, w, h, false, opts, 0, "")
	p.SetY(y + boxH + 4)
}

// verifyBlock prints the verification link beside its QR code.
func (r *renderer) verifyBlock(url string, width float64) error {
	p := r.pdf
	const qrSize = 32.0
	bits, err := QRModules(url, QRMedium, 4) // with its quiet zone of four modules
	if err != nil {
		return fmt.Errorf("pdf: QR code: %w", err)
	}
	r.ensureSpace(qrSize + 8)
	y := p.GetY() + 4
	r.setFillColor(colBoxFill)
	p.Rect(pageMarginX, y, width, qrSize+6, "F")
	// The code drawn, on white, and a link over it.
	qx, qy := pageMarginX+3, y+3
	r.setFillColor(colWhite)
	p.Rect(qx, qy, qrSize, qrSize, "F")
	r.setFillColor(colQR)
	DrawQR(p, bits, qx, qy, qrSize/float64(len(bits)))
	p.LinkString(qx, qy, qrSize, qrSize, url)
	r.setFillColor(colBoxFill)
	x := pageMarginX + qrSize + 8
	tw := width - qrSize - 11
	r.useFont(famSans, "B", 11)
	r.setTextColor(colHeading)
	p.SetXY(x, y+4)
	p.CellFormat(tw, 6, "Check this copy", "", 2, "L", false, 0, "")
	r.useFont(famSans, "", 9.5)
	r.setTextColor(colText)
	p.SetX(x)
	r.wrapLines("Scan the code or open the link to see the record Signoff holds. You can also upload this PDF there: "+
		"a copy that has been changed in any way does not match.", tw, 4.6)
	r.useFont(famSans, "", 9)
	r.setTextColor(colLink)
	size := 9.0
	for size > 6 && p.GetStringWidth(url) > tw {
		size -= 0.25
		r.useFont(famSans, "", size)
	}
	for _, l := range p.SplitText(url, tw) {
		p.SetX(x)
		p.CellFormat(tw, 4.6, l, "", 1, "L", false, 0, url)
	}
	p.SetY(y + qrSize + 8)
	return nil
}
