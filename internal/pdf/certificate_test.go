package pdf_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os/exec"
	"strings"
	"testing"
	"time"

	"signoff/internal/pdf"
	"signoff/internal/pdf/pdftest"
)

func withCertificate() pdf.SignedCopy {
	c := sample()
	var sig bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	for x := 20; x < 280; x++ {
		img.Set(x, 50+(x%40)-20, color.NRGBA{0, 0, 0, 255})
	}
	_ = png.Encode(&sig, img)
	c.Certificate = &pdf.Certificate{
		ForChild:       "Amira Khan, Year 3 (3K)",
		IdentifiedBy:   "Signed in with a single-use link emailed to their address (zoe@example.org)",
		Method:         "Online, in Signoff",
		Answers:        []pdf.Answer{{Item: "Photos on the website", Value: "Yes"}, {Item: "Photos in the press", Value: "No"}},
		IP:             "203.0.113.7",
		UserAgent:      "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
		VerifyURL:      "https://signoff.example.sch.uk/verify/SG-7Q2K-9XHM",
		DrawnSignature: sig.Bytes(),
	}
	return c
}

func TestCertificatePage(t *testing.T) {
	data := render(t, withCertificate())
	path := pdftest.File(t, data)
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8")), " ")
	for _, want := range []string{"CERTIFICATE OF SIGNATURE", "Amira Khan, Year 3 (3K)", "single-use link", "203.0.113.7",
		"Photos on the website", "Photos in the press", "iPhone", testSHA, "SG-7Q2K-9XHM", "https://signoff.example.sch.uk/verify/SG-7Q2K-9XHM",
		"Check this copy", "Drawn signature"} {
		if !strings.Contains(flat, want) {
			t.Errorf("certificate lacks %q", want)
		}
	}
	out, err := exec.Command(pdftest.Tool(t, "qpdf"), "--check", path).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if !bytes.Equal(data, render(t, withCertificate())) {
		t.Fatal("the certificate makes the copy non-deterministic")
	}
	if ref := pdf.ReferenceOf(data); ref != "SG-7Q2K-9XHM" {
		t.Fatalf("ReferenceOf = %q", ref)
	}
	if ref := pdf.ReferenceOf([]byte("%PDF-1.4 nothing")); ref != "" {
		t.Fatalf("ReferenceOf(no keywords) = %q", ref)
	}
	// A broken drawn signature is reported, not fatal.
	c := withCertificate()
	c.Certificate.DrawnSignature = []byte("not a png")
	flat = strings.Join(strings.Fields(pdftotext(t, pdftest.File(t, render(t, c)), "-enc", "UTF-8")), " ")
	if !strings.Contains(flat, "could not be shown") {
		t.Error("a broken drawn signature is not reported")
	}
	// A record stored before huge drawings were refused still makes its
	// copy: a PNG claiming 60000 × 60000 pixels is described, not decoded.
	c = withCertificate()
	c.Certificate.DrawnSignature = hugePNGHeader(60000, 60000)
	flat = strings.Join(strings.Fields(pdftotext(t, pdftest.File(t, render(t, c)), "-enc", "UTF-8")), " ")
	if !strings.Contains(flat, "could not be shown") {
		t.Error("a 60000×60000 drawn signature is not reported")
	}
}

// hugePNGHeader is a PNG whose header claims w × h pixels, and no pixels.
func hugePNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr)
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

func TestComplianceReport(t *testing.T) {
	var buf bytes.Buffer
	err := pdf.WriteComplianceReport(&buf, pdf.Report{SchoolName: "Westbrook Primary School", Produced: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Sections: []pdf.ReportSection{
			{Title: "Staff policies and agreements", Done: "signed", Unit: "signatures", FormsDone: 1, Audience: 75, Signed: 66,
				Forms: []pdf.ReportForm{{Title: "IT acceptable use policy", Version: 2, Audience: 40, Signed: 31, Due: "1 December 2026"},
					{Title: "Data confidentiality agreement", Version: 1, Audience: 35, Signed: 35}}},
			{Title: "Parents' forms", Done: "returned", Unit: "children's forms", Audience: 400, Signed: 100, Withdrawn: 20,
				Forms: []pdf.ReportForm{{Title: "Photo consent", Version: 1, Audience: 400, Signed: 100, Withdrawn: 20}}}},
		ReviewsKnown: true, Reviews: []pdf.ReportReview{{Title: "Behaviour policy", Due: "1 November 2026", Late: true}}})
	if err != nil {
		t.Fatal(err)
	}
	path := pdftest.File(t, buf.Bytes())
	flat := strings.Join(strings.Fields(pdftotext(t, path, "-enc", "UTF-8")), " ")
	for _, want := range []string{"Compliance report", "Staff policies and agreements", "1 of 2 open forms are fully signed", "66 of 75 signatures asked for have been given (88%)",
		"Parents' forms", "0 of 1 open forms are fully returned", "100 of 400 children's forms asked for have been given (25%). 20 withdrawn.",
		"100 signed, 280 still to sign, 20 withdrawn", "31 signed, 9 still to sign", "77%", "100%",
		"Behaviour policy — review due 1 November 2026 (overdue)", "30 November 2026 at 09:00 (GMT)"} {
		if !strings.Contains(flat, want) {
			t.Errorf("report lacks %q\n%s", want, flat)
		}
	}
	if out, err := exec.Command(pdftest.Tool(t, "qpdf"), "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	info, _ := exec.Command(pdftest.Tool(t, "pdfinfo"), path).CombinedOutput()
	if !strings.Contains(string(info), "Compliance report") || !strings.Contains(string(info), "Author:          Westbrook Primary School") {
		t.Errorf("report metadata:\n%s", info)
	}
}
