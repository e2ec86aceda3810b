package notify

func goldenLanguages() []string { return []string{"ja", "en"} }
