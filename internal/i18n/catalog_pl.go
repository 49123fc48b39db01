package i18n

// polish holds the Polish translations of the parent pages.
var polish = map[string]string{
	// The page frame and menu (internal/web/family.go, render.go).
	"Skip to main content":  "Przejdź do treści głównej",
	"Sign out":              "Wyloguj się",
	"Signoff · forms for %s": "Signoff · formularze szkoły %s",
	"Language":              "Język",
	"Your children":         "Twoje dzieci",
	"Your account":          "Twoje konto",
	"Your documents":        "Twoje dokumenty",
	"Class lists":           "Listy klas",
	"Check a child":         "Sprawdź dziecko",
	"Class mode":            "Tryb klasowy",
	"Who has signed":        "Kto podpisał",
	"Policies":              "Regulaminy",
	"Staff":                 "Pracownicy",
	"Parents' forms":        "Formularze rodziców",
	"Pupils":                "Uczniowie",
	"Import":                "Import",
	"Outbox":                "Skrzynka nadawcza",
	"Audit log":             "Dziennik zdarzeń",
	"Settings":              "Ustawienia",

	// Your children.
	"Hello, %s": "Dzień dobry, %s",
	"Here are the forms the school is asking you to complete for each of your children.":                         "Oto formularze, które szkoła prosi cię wypełnić dla każdego z twoich dzieci.",
	"The school has no children linked to you at the moment. If this is wrong, please contact the school office.": "Na razie szkoła nie ma w systemie żadnych dzieci powiązanych z tobą. Jeśli to pomyłka, skontaktuj się z sekretariatem szkoły.",
	"Nothing to complete at the moment.":                                                                          "Na razie nie ma nic do wypełnienia.",
	"To complete":                "Do wypełnienia",
	"Complete the form":          "Wypełnij formularz",
	"Completed by you on %s":     "Wypełnione przez ciebie dnia %s",
	"View or change your answers": "Zobacz lub zmień swoje odpowiedzi",
	"Completed by %s on %s":      "Wypełnione przez: %s, dnia %s",
	"View the answers":           "Zobacz odpowiedzi",
	"Completed by a parent with parental responsibility": "Wypełnione przez rodzica z władzą rodzicielską",
	"View": "Zobacz",

	// One child.
	"Class":                                  "Klasa",
	"You are their":                          "Kim jesteś dla dziecka",
	"There are no forms for %s at the moment.": "Na razie nie ma żadnych formularzy dla dziecka: %s.",

	// A form.
	"For %s":                             "Dziecko: %s",
	"Yes":                                "Tak",
	"No":                                 "Nie",
	"Your full name":                     "Twoje imię i nazwisko",
	"Typing your name is your signature.": "Wpisanie imienia i nazwiska jest twoim podpisem.",
	"Draw your signature (optional)":     "Narysuj swój podpis (nieobowiązkowo)",
	"Use your finger or mouse. You can leave this blank.": "Rysuj palcem albo myszką. Możesz to pominąć.",
	"Clear":                  "Wyczyść",
	"Send":                   "Wyślij",
	"Your answers now":       "Twoje obecne odpowiedzi",
	"History of changes":     "Historia zmian",
	"When":                   "Kiedy",
	"Who":                    "Kto",
	"What":                   "Co",
	"The school's part":      "Część szkoły",
	"Your part":              "Twoja część",
	"Your child's part":      "Część dziecka",
	"Your child signs their part at school, with their teacher.": "Twoje dziecko podpisze swoją część w szkole, razem z nauczycielem.",
	"I agree to my part of this agreement":                       "Zgadzam się na swoją część tego porozumienia",
	"Only a parent or carer with parental responsibility can complete this form. Please contact the school office if this is wrong.": "Ten formularz może wypełnić tylko rodzic lub opiekun z władzą rodzicielską. Jeśli to pomyłka, skontaktuj się z sekretariatem szkoły.",
	"Download a copy (PDF)":                        "Pobierz kopię (PDF)",
	"Signed on behalf of the school by %s on %s.": "Podpisane w imieniu szkoły przez: %s, dnia %s.",
	"%s completed this form on %s. You can change any answer: your answer will then count too, and if you and another parent disagree, the school follows the “no”.": "Formularz wypełnione przez: %s, dnia %s. Możesz zmienić każdą odpowiedź: wtedy twoja odpowiedź też będzie się liczyć, a jeśli ty i drugi rodzic odpowiecie inaczej, szkoła przyjmie odpowiedź „nie”.",
	"Give consent":     "Wyraź zgodę",
	"Withdraw consent": "Wycofaj zgodę",
	"Parents disagree: the school follows the “no”.": "Rodzice odpowiedzieli inaczej: szkoła przyjmuje odpowiedź „nie”.",
	"Completed the form":                       "Wypełniono formularz",
	"Changed an answer":                        "Zmieniono odpowiedź",
	"Paper form recorded by the school office": "Formularz papierowy wpisany przez sekretariat szkoły",

	// Changing one answer.
	"Give consent?":         "Wyrazić zgodę?",
	"Yes, give consent":     "Tak, wyrażam zgodę",
	"“%s” for %s will change to yes straight away.": "„%s” (dziecko: %s) od razu zmieni się na „tak”.",
	"Withdraw consent?":     "Wycofać zgodę?",
	"Yes, withdraw consent": "Tak, wycofuję zgodę",
	"“%s” for %s will change to no straight away. The school is told at once.": "„%s” (dziecko: %s) od razu zmieni się na „nie”. Szkoła od razu się o tym dowie.",
	"Cancel": "Anuluj",

	// Errors on the form (internal/web/family.go translateFieldError, and
	// the messages of internal/consent validateSubmission).
	"Tick to confirm: %s":       "Zaznacz, aby potwierdzić: %s",
	"Choose yes or no for: %s":  "Wybierz odpowiedź tak lub nie: %s",
	"Type your full name to sign": "Wpisz swoje imię i nazwisko, aby podpisać",
	"The name must be 200 characters or fewer": "Imię i nazwisko może mieć najwyżej 200 znaków",
	"The drawn signature could not be read: clear it and draw it again, or leave it out": "Nie udało się odczytać narysowanego podpisu: wyczyść go i narysuj jeszcze raz albo go pomiń",
	"Tick the box to agree to the parent's part": "Zaznacz pole, aby zgodzić się na część rodzica",

	// The record of what was given.
	"Child":        "Dziecko",
	"Completed by": "Kto wypełnił",
	"Reference":    "Numer referencyjny",
	"Back to the form, to change an answer": "Wróć do formularza, aby zmienić odpowiedź",
}
