package pdf

// ShareFonts turns the sharing of parsed fonts between documents on or
// off (fontshare.go), and says whether it is in use.
func ShareFonts(on bool) (inUse bool) {
	shareFonts = on
	shareOnce.Do(prepareShared)
	return on && shared != nil
}
