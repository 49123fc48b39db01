package policies

import (
	"strings"
	"time"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op is what a piece of a comparison is.
type Op int

// The ops.
const (
	Same Op = iota
	Inserted
	Deleted
)

// Change is a run of text that is the same, inserted or deleted.
type Change struct {
	Op   Op
	Text string
}

// Comparison is the word-level marked changes between two texts.
type Comparison struct {
	Changes []Change
	Added   int // words inserted
	Removed int // words deleted
}

// tokens splits text into words, runs of spaces and single punctuation
// marks, so that changes are marked word by word.
func tokens(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i + 1
		switch {
		case unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]):
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '\'' || rs[j] == '’') {
				j++
			}
		case rs[i] == '\n':
		case unicode.IsSpace(rs[i]):
			for j < len(rs) && unicode.IsSpace(rs[j]) && rs[j] != '\n' {
				j++
			}
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

// Compare marks the changes from old to new, word by word.
func Compare(old, new string) Comparison {
	diffs, key := diffKeys(tokens(old), tokens(new))
	decode := func(s string) string {
		var sb strings.Builder
		for _, r := range s {
			sb.WriteString(key(r))
		}
		return sb.String()
	}
	var raw []Change
	for _, d := range diffs {
		c := Change{Text: decode(d.Text)}
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			c.Op = Inserted
		case diffmatchpatch.DiffDelete:
			c.Op = Deleted
		}
		raw = append(raw, c)
	}
	cmp := Comparison{Changes: tidy(raw)}
	for _, c := range cmp.Changes {
		n := len(strings.FieldsFunc(c.Text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		switch c.Op {
		case Inserted:
			cmp.Added += n
		case Deleted:
			cmp.Removed += n
		}
	}
	return cmp
}

// diffKeys diffs two sequences of keys (words, or blocks' keys) with
// diffmatchpatch, each distinct key standing for one rune (any valid rune
// but the surrogates): each diff's Text is the runes of its keys, and key
// returns the key a rune stands for.
func diffKeys(a, b []string) (diffs []diffmatchpatch.Diff, key func(r rune) string) {
	index := map[string]rune{}
	var back []string
	encode := func(keys []string) []rune {
		out := make([]rune, len(keys))
		for i, k := range keys {
			r, ok := index[k]
			if !ok {
				r = rune(len(back) + 1)
				if r >= 0xD800 {
					r += 0x800
				}
				index[k] = r
				back = append(back, k)
			}
			out[i] = r
		}
		return out
	}
	ra, rb := encode(a), encode(b)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 5 * time.Second
	key = func(r rune) string {
		i := int(r) - 1
		if r >= 0xD800+0x800 {
			i -= 0x800
		}
		return back[i]
	}
	return dmp.DiffMainRunes(ra, rb, false), key
}

// tidy joins changes separated only by a space into one deletion followed
// by one insertion, which reads better than alternating single words.
func tidy(in []Change) []Change {
	var out []Change
	for i := 0; i < len(in); {
		if in[i].Op == Same {
			out = append(out, in[i])
			i++
			continue
		}
		var del, ins strings.Builder
		j := i
		for j < len(in) {
			c := in[j]
			if c.Op == Same {
				// A lone space between changes belongs to both sides.
				if strings.TrimSpace(c.Text) == "" && !strings.Contains(c.Text, "\n") && j+1 < len(in) && in[j+1].Op != Same {
					del.WriteString(c.Text)
					ins.WriteString(c.Text)
					j++
					continue
				}
				break
			}
			if c.Op == Deleted {
				del.WriteString(c.Text)
			} else {
				ins.WriteString(c.Text)
			}
			j++
		}
		if del.Len() > 0 {
			out = append(out, Change{Op: Deleted, Text: del.String()})
		}
		if ins.Len() > 0 {
			out = append(out, Change{Op: Inserted, Text: ins.String()})
		}
		i = j
	}
	return out
}

// Changed reports whether the comparison has any change.
func (c Comparison) Changed() bool { return c.Added > 0 || c.Removed > 0 || len(c.Changes) > 1 }
