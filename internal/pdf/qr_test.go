package pdf_test

import (
	"signoff/internal/pdf/pdftest"

	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestCertificateQRCodeScans prints the certificate page as a printer
// would and decodes its QR code (drawn as vector modules): it must open
// the record's verification page.
func TestCertificateQRCodeScans(t *testing.T) {
	c := withCertificate()
	path := pdftest.File(t, render(t, c))
	n := pageCount(t, path)
	prefix := filepath.Join(t.TempDir(), "page")
	// The certificate is the copy's last page.
	if out, err := exec.Command(pdftest.Tool(t, "pdftoppm"), "-r", "150", "-png", "-singlefile",
		"-f", strconv.Itoa(n), "-l", strconv.Itoa(n), path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code on the certificate page: %v", err)
	}
	if got := res.GetText(); got != c.Certificate.VerifyURL {
		t.Fatalf("QR code = %q, want %q", got, c.Certificate.VerifyURL)
	}
}
