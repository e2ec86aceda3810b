//go:build ignore

// gen_common writes common_passwords.txt: well-known passwords, keyboard
// walks, digit runs and local words with the suffixes people add to them.
// Run with go generate; the output is sorted and deduplicated.
package main

import (
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
)

// top lists passwords that head every public breach statistic.
var top = strings.Fields(`
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon
123123 baseball abc123 football monkey letmein 696969 shadow master 666666
qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh
hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000
charlie robert thomas hockey ranger daniel starwars klaster 112233 george
computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom
777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer
love ashley nicole chelsea biteme matthew access yankees 987654321 dallas
austin thunder taylor matrix mobilemail minecraft william corvette hello
martin heather secret merlin diamond 1234qwer gfhjkm hammer silver 222222
88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter orange
11111 golfer cookie richard samantha bigdog guitar jackson whatever mickey
chicken sparky snoopy maverick phoenix camaro peanut morgan welcome falcon
cowboy ferrari samsung andrea smokey steelers joseph mercedes dakota arsenal
eagles melissa boomer booboo spider nascar monster tigers yellow xxxxxx
123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana
junior hannah 123654 porsche lakers iceman money cowboys 987654 london tennis
999999 ncc1701 coffee scooby 0000 miller boston q1w2e3r4 brandon yamaha chester
mother forever johnny edward 333333 oliver redsox player nikita knight fender
barney midnight please brandy chicago badboy slayer rangers charles angel
flower bigdaddy rabbit wizard jasper enter rachel chris 7777 qwert
babygirl 1q2w3e4r 1q2w3e4r5t 1q2w3e 1q2w3e4r5t6y passw0rd p@ssw0rd p@ssword
password1 password12 password123 password1234 admin admin123 administrator
root toor changeme default guest user login welcome1 letmein1 iloveyou1
qwerty123 qwerty1 abc12345 abcd1234 a1b2c3d4 aa123456 asdf1234 zaq12wsx
zaq1zaq1 1qazxsw2 qweasdzxc qweasd asdasd asdqwe zxc123 qwe123 abcdef abcdefg
abcdefgh 1234abcd 12qwaszx qwaszx passpass secret123 hello123 monkey123
dragon123 football1 baseball1 superman1 batman123 trustno1 sunshine1 princess1
loveme lovely lover angel1 angels
naruto pokemon doraemon totoro pikachu sakura tokyo osaka kyoto nagoya
fukuoka sapporo yokohama kobe okinawa hokkaido nihon nippon japan samurai
ninja sushi ramen tanaka suzuki sato takahashi watanabe yamamoto nakamura
kobayashi yamada hiroshi takeshi yuki hana aiko daisuke kenji akira
`)

// words are bases people decorate with digits and symbols.
var words = strings.Fields(`
password passw0rd p@ssw0rd qwerty monkey dragon letmein welcome iloveyou
sunshine princess football baseball master shadow superman batman michael
jordan charlie admin login secret hello freedom summer winter spring autumn
flower orange banana cookie pokemon naruto sakura tokyo osaka japan nippon
samurai ninja airline airport flight pilot travel mileage miles member
jal ana jmb amc skyteam oneworld boeing airbus narita haneda kansai
tsubasa sora hikari yume kokoro ai daisuki arigato konnichiwa sayonara
doraemon totoro pikachu gundam godzilla tanaka suzuki sato yamada yamamoto
`)

var suffixes = []string{
	"", "1", "12", "123", "1234", "12345", "123456", "!", "!!", "1!", "123!",
	"01", "11", "00", "99", "2020", "2021", "2022", "2023", "2024", "2025",
	"2026", "#1", "@123", "_123", ".", "?", "69", "7", "77", "777", "88", "888",
}

// rows of the keyboards people walk along.
var rows = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
	"0987654321", "poiuytrewq", "lkjhgfdsa", "mnbvcxz",
	"1qaz2wsx3edc4rfv5tgb", "zaq1xsw2cde3vfr4bgt5", "qazwsxedcrfvtgbyhn",
	"!@#$%^&*()", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
	"qweasdzxc", "147258369", "159357", "741852963", "963852741", "123654789",
}

func main() {
	set := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(s)
		if len(s) >= 4 && len(s) <= 64 {
			set[s] = true
		}
	}
	for _, w := range top {
		add(w)
	}
	for _, w := range words {
		for _, s := range suffixes {
			add(w + s)
			add(s + w)
		}
		add(w + w)
		add(strings.NewReplacer("a", "@", "o", "0", "e", "3", "i", "1", "s", "$").Replace(w))
	}
	for _, row := range rows {
		// Every run of 4 or more consecutive keys, forward.
		for i := 0; i < len(row); i++ {
			for j := i + 4; j <= len(row); j++ {
				add(row[i:j])
			}
		}
	}
	for d := '0'; d <= '9'; d++ {
		for n := 4; n <= 16; n++ {
			add(strings.Repeat(string(d), n))
		}
	}
	for _, w := range []string{"12", "123", "1234", "abc", "qwe", "asd", "aa", "ab", "xo", "qw"} {
		for n := 2; n <= 6; n++ {
			add(strings.Repeat(w, n))
		}
	}
	// Dates: ddmmyyyy and yyyymmdd birthdays are guessed first by attackers;
	// listing one a month keeps the file small while catching the habit of
	// the first of the month.
	for y := 1950; y <= 2026; y++ {
		add(fmt.Sprintf("%d%d", y, y))
		for m := 1; m <= 12; m++ {
			add(fmt.Sprintf("%04d%02d01", y, m))
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	text := "# Common passwords, one lower-case entry a line. Generated by gen_common.go.\n" +
		strings.Join(out, "\n") + "\n"
	if err := os.WriteFile("common_passwords.txt", []byte(text), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(out), "entries")
}
