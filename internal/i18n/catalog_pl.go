package i18n

// polish holds the Polish translations of the parent pages.
var polish = map[string]string{}
