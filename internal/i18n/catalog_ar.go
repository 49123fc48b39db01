package i18n

// arabic holds the Arabic translations of the parent pages.
var arabic = map[string]string{}
