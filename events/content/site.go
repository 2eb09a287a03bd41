package content

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Settings are the site-wide settings in site/settings.yaml.
type Settings struct {
	Title        string    `json:"title" yaml:"title"`
	Tagline      string    `json:"tagline" yaml:"tagline,omitempty"`
	Description  string    `json:"description" yaml:"description,omitempty"`
	BaseURL      string    `json:"base_url" yaml:"base_url,omitempty"`
	Language     string    `json:"language" yaml:"language,omitempty"`
	PostsPerPage int       `json:"posts_per_page" yaml:"posts_per_page,omitempty"`
	Analytics    Analytics `json:"analytics" yaml:"analytics,omitempty"`
	Ads          Ads       `json:"ads" yaml:"ads,omitempty"`
	// Navigation chooses the header's links (see NavItem); nil: the
	// first DefaultNavCategories categories.
	Navigation *[]NavItem `json:"navigation,omitempty" yaml:"navigation,omitempty"`
}

// Analytics holds the ids of analytics services; empty means off.
type Analytics struct {
	GoogleAnalyticsID string `json:"google_analytics_id" yaml:"google_analytics_id,omitempty"`
}

// Ads holds the ids of ad services; empty means off.
type Ads struct {
	AdSenseClientID string `json:"adsense_client_id" yaml:"adsense_client_id,omitempty"`
}

// Profile is the author's profile in site/profile.yaml.
type Profile struct {
	Name   string `json:"name" yaml:"name"`
	Bio    string `json:"bio" yaml:"bio,omitempty"`
	Avatar string `json:"avatar" yaml:"avatar,omitempty"`
	Email  string `json:"email" yaml:"email,omitempty"`
	Links  []Link `json:"links" yaml:"links,omitempty"`
}

// Link is one social link on the profile.
type Link struct {
	Name string `json:"name" yaml:"name"`
	URL  string `json:"url" yaml:"url"`
}

// DefaultSettings apply when site/settings.yaml is absent.
func DefaultSettings() Settings {
	return Settings{Title: "Chronicle", Language: "en", PostsPerPage: 10}
}

var (
	gaRE      = regexp.MustCompile(`^(G-[A-Z0-9]{4,20}|UA-\d{4,10}-\d{1,4})$`)
	adsenseRE = regexp.MustCompile(`^ca-pub-\d{10,20}$`)
	langRE    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// ParseSettings reads site/settings.yaml over the defaults.
func ParseSettings(data []byte) (Settings, error) {
	s := DefaultSettings()
	if err := strictYAML(SettingsPath, data, &s); err != nil {
		return Settings{}, err
	}
	return s, ValidateSettings(&s).Err(SettingsPath)
}

// ValidateSettings checks the settings' fields.
func ValidateSettings(s *Settings) FieldErrors {
	var fe FieldErrors
	if strings.TrimSpace(s.Title) == "" {
		fe.Add("title", 0, "is required")
	} else if utf8.RuneCountInString(s.Title) > MaxTitle {
		fe.Add("title", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(s.Tagline) > MaxTitle {
		fe.Add("tagline", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(s.Description) > MaxText {
		fe.Add("description", 0, "at most %d characters allowed", MaxText)
	}
	if s.BaseURL != "" {
		checkURL(&fe, "base_url", s.BaseURL)
	}
	if !langRE.MatchString(s.Language) {
		fe.Add("language", 0, "%q is not a language tag such as \"en\" or \"pt-BR\"", Clip(s.Language))
	}
	if s.PostsPerPage < 1 || s.PostsPerPage > 100 {
		fe.Add("posts_per_page", 0, "must be between 1 and 100, not %d", s.PostsPerPage)
	}
	if id := s.Analytics.GoogleAnalyticsID; id != "" && !gaRE.MatchString(id) {
		fe.Add("analytics.google_analytics_id", 0, "%q is not a Google Analytics id (G-XXXXXXX)", Clip(id))
	}
	if id := s.Ads.AdSenseClientID; id != "" && !adsenseRE.MatchString(id) {
		fe.Add("ads.adsense_client_id", 0, "%q is not an AdSense client id (ca-pub-…)", Clip(id))
	}
	if s.Navigation != nil {
		validateNavigation(&fe, *s.Navigation)
	}
	return fe
}

// MarshalSettings renders site/settings.yaml.
func MarshalSettings(s *Settings) ([]byte, error) { return MarshalYAML(s) }

// ParseProfile reads site/profile.yaml.
func ParseProfile(data []byte) (Profile, error) {
	var p Profile
	if err := strictYAML(ProfilePath, data, &p); err != nil {
		return Profile{}, err
	}
	return p, ValidateProfile(&p).Err(ProfilePath)
}

// ValidateProfile checks the profile's fields.
func ValidateProfile(p *Profile) FieldErrors {
	var fe FieldErrors
	if utf8.RuneCountInString(p.Name) > MaxTitle {
		fe.Add("name", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(p.Bio) > 10*MaxText {
		fe.Add("bio", 0, "at most %d characters allowed", 10*MaxText)
	}
	checkRef(&fe, "avatar", p.Avatar)
	if p.Email != "" && (!strings.Contains(p.Email, "@") || len(p.Email) > 254 || strings.ContainsAny(p.Email, " <>\r\n")) {
		fe.Add("email", 0, "%q is not an email address", Clip(p.Email))
	}
	if len(p.Links) > MaxListItems {
		fe.Add("links", 0, "at most %d links allowed", MaxListItems)
	}
	for i, l := range p.Links {
		if strings.TrimSpace(l.Name) == "" || utf8.RuneCountInString(l.Name) > maxLinkName {
			fe.Add(fmt.Sprintf("links[%d].name", i), 0, "is required, at most %d characters", maxLinkName)
		}
		checkURL(&fe, fmt.Sprintf("links[%d].url", i), l.URL)
	}
	return fe
}

const maxLinkName = 64

// MarshalProfile renders site/profile.yaml.
func MarshalProfile(p *Profile) ([]byte, error) { return MarshalYAML(p) }
