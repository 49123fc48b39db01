package signing

// FoldName, FoldASCII and FoldUnicode are foldName and its two ways, for
// the test that they agree.
var (
	FoldName    = foldName
	FoldASCII   = foldASCII
	FoldUnicode = foldUnicode
)
