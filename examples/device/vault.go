package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// pollPushToken is the push token this program registers: it has no OS
// push service to be woken through, so it asks the portal for pending
// requests (watch, sign). A server sends pushes only to devices with a
// token; the portal's notifier wakes nobody and leaves each request in
// the store for the device API.
const pollPushToken = "keyline-device-cli:poll"

// maxDeviceName is the longest device name the protocol accepts, in bytes.
const maxDeviceName = 128

// newPIN asks for a new PIN twice and applies enroll's policy to it, for
// each name it will protect (the user IDs and account names known; the
// vault checks those it holds again where it can).
func (a *app) newPIN(names ...string) (string, error) {
	pin, err := a.con.secret(a.ctx, "New PIN (4 to 6 characters): ")
	if err != nil {
		return "", err
	}
	for _, n := range append([]string{""}, names...) {
		if err := keylinecore.CheckPIN(pin, n); err != nil {
			return "", err
		}
	}
	again, err := a.con.secret(a.ctx, "The new PIN again: ")
	if err != nil {
		return "", err
	}
	if again != pin {
		return "", errors.New("the two PINs differ: nothing was changed")
	}
	return pin, nil
}

// chooseEntry picks one of the vault's accounts all: the one sel names,
// the only one, or the one the user picks from a list.
func (a *app) chooseEntry(all []vault.Entry, sel selection) (vault.Entry, error) {
	if len(all) == 0 {
		return vault.Entry{}, errors.New("the vault holds no account: activate one first")
	}
	matches := filterEntries(all, sel)
	switch {
	case len(matches) == 0:
		return vault.Entry{}, fmt.Errorf("the vault holds no account %s (see the users command)", describeSelection(sel))
	case len(matches) == 1:
		return matches[0], nil
	case sel.user != "":
		return vault.Entry{}, fmt.Errorf("several accounts match %s: add -issuer", describeSelection(sel))
	}
	a.con.say("The vault holds several accounts:")
	for i, e := range matches {
		a.con.say("  %d. %s", i+1, entryLabel(e))
	}
	ans, err := a.con.ask(a.ctx, fmt.Sprintf("Which account (1-%d, or its name)? ", len(matches)))
	if err != nil {
		return vault.Entry{}, err
	}
	if n, err := strconv.Atoi(ans); err == nil && n >= 1 && n <= len(matches) {
		return matches[n-1], nil
	}
	if picked := filterEntries(matches, selection{user: ans}); len(picked) == 1 {
		return picked[0], nil
	}
	return vault.Entry{}, errors.New("no such account in the list")
}

// filterEntries keeps the entries sel names: by account name, or else by
// user ID, exactly, then ignoring case; and by issuer when sel has one.
func filterEntries(all []vault.Entry, sel selection) []vault.Entry {
	var byIssuer []vault.Entry
	for _, e := range all {
		if sel.issuer == "" || e.Issuer == sel.issuer || strings.EqualFold(e.Issuer, sel.issuer) {
			byIssuer = append(byIssuer, e)
		}
	}
	if sel.user == "" {
		return byIssuer
	}
	for _, match := range []func(e vault.Entry) bool{
		func(e vault.Entry) bool { return e.AccountName == sel.user },
		func(e vault.Entry) bool { return e.User == sel.user },
		func(e vault.Entry) bool { return strings.EqualFold(e.AccountName, sel.user) },
		func(e vault.Entry) bool { return strings.EqualFold(e.User, sel.user) },
	} {
		var out []vault.Entry
		for _, e := range byIssuer {
			if match(e) {
				out = append(out, e)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

func describeSelection(sel selection) string {
	switch {
	case sel.user != "" && sel.issuer != "":
		return fmt.Sprintf("%q at %q", sel.user, sel.issuer)
	case sel.user != "":
		return fmt.Sprintf("%q", sel.user)
	case sel.issuer != "":
		return fmt.Sprintf("at %q", sel.issuer)
	}
	return ""
}

// entryLabel names an account as the lists show it.
func entryLabel(e vault.Entry) string {
	if e.AccountName == e.User || e.User == "" {
		return fmt.Sprintf("%s (%s)", e.AccountName, e.Issuer)
	}
	return fmt.Sprintf("%s (%s, user %s)", e.AccountName, e.Issuer, e.User)
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
