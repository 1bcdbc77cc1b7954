package notice

import "errors"

// Sentinel errors of the notice generator; callers test them with
// errors.Is.
var (
	// ErrUnknownLanguage: the notice exists in German (de) and English
	// (en) only; wrapped with the language asked for.
	ErrUnknownLanguage = errors.New("notice: unknown language (use de or en)")
	// ErrInvalidFacts: the facts cannot describe a running service (a
	// retention period of zero, no cookie name …); wrapped with the field.
	// Refusing is better than printing a notice that promises "0 days".
	ErrInvalidFacts = errors.New("notice: invalid facts")
)
