package tracker

import (
	"database/sql"
	"regexp"
	"sync"

	"github.com/mattn/go-sqlite3"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// sqliteDriverName is the go-sqlite3 driver with lstmlab's SQL functions
// registered on every connection. SQLite's own LIKE folds ASCII letters
// only, so 'état%' would miss 'État'; filters call lstmlab_like instead.
const sqliteDriverName = "sqlite3_lstmlab"

var registerDriver sync.Once

// sqliteDriver registers (once per process, as database/sql requires) and
// names the driver with lstmlab's functions.
func sqliteDriver() string {
	registerDriver.Do(func() {
		sql.Register(sqliteDriverName, &sqlite3.SQLiteDriver{
			ConnectHook: func(conn *sqlite3.SQLiteConn) error {
				return conn.RegisterFunc("lstmlab_like", sqlLike, true)
			},
		})
	})
	return sqliteDriverName
}

// foldText is the case-insensitive form ilike compares: NFC (so a
// composed and a decomposed é are one letter) then full Unicode case
// folding (É → é, Ω → ω, ß → ss), as Unicode's caseless matching defines.
func foldText(s string) string {
	// A Caser keeps state and must not be shared between goroutines.
	return cases.Fold().String(norm.NFC.String(s))
}

// sqlLike is lstmlab_like(value, regexp, fold): whether value (text, or a
// number as its text) matches the regular expression built by
// filter.LikeRegexp, folding value first when fold is 1. NULL gives NULL,
// as SQL's LIKE does.
func sqlLike(value any, re string, fold int64) (any, error) {
	var s string
	switch v := value.(type) {
	case string:
		s = v
	case []byte:
		if v == nil {
			return nil, nil
		}
		s = string(v)
	default:
		return nil, nil // numbers are CAST to text by the caller
	}
	rx, err := likeRegexps.get(re)
	if err != nil {
		return nil, err
	}
	if fold == 1 {
		s = foldText(s)
	}
	return rx.MatchString(s), nil
}

// regexpCache keeps the compiled patterns of recent filters: a filter is
// evaluated once per run, so compiling per call would dominate.
type regexpCache struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

var likeRegexps = &regexpCache{m: map[string]*regexp.Regexp{}}

func (c *regexpCache) get(re string) (*regexp.Regexp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rx, ok := c.m[re]; ok {
		return rx, nil
	}
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, err
	}
	if len(c.m) >= 256 { // bounded: a long-lived notebook may run many filters
		clear(c.m)
	}
	c.m[re] = rx
	return rx, nil
}
