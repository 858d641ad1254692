package crmhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hotline/controller"
	"hotline/controller/crmhttp"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
)

func TestLookup(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Query().Get("phone") {
		case "+8613800001111":
			w.Write([]byte(`{"data":[{"cust_id":42,"full_name":"Han Meimei","org":"Bank","vip":true}]}`))
		case "+404":
			w.WriteHeader(http.StatusNotFound)
		case "+500":
			w.WriteHeader(http.StatusInternalServerError)
		case "+slow":
			<-block
		default:
			w.Write([]byte(`[]`))
		}
	}))
	defer srv.Close()
	defer close(block) // before Close, which waits for the blocked handler
	c, err := crmhttp.New(crmhttp.Config{
		URL: srv.URL + "/customers?phone=${caller}", Timeout: 300 * time.Millisecond,
		Headers: map[string]string{"X-Api-Key": "k"},
		Map:     map[string]string{"id": "data.0.cust_id", "name": "data.0.full_name", "company": "data.0.org", "fields.vip": "data.0.vip"},
	}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	got, err := c.LookupCaller(ctx, "+8613800001111")
	if err != nil || got.Source != "crm" || got.Name != "Han Meimei" || got.ContactID != "42" || got.Company != "Bank" || got.Fields["vip"] != "true" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if got, err := c.LookupCaller(ctx, "+404"); err != nil || got.Source != "" {
		t.Fatalf("404: %+v %v", got, err)
	}
	if got, err := c.LookupCaller(ctx, "+1"); err != nil || got.Source != "" {
		t.Fatalf("empty answer: %+v %v", got, err)
	}
	if _, err := c.LookupCaller(ctx, "+500"); !errors.Is(err, crmhttp.ErrStatus) {
		t.Fatalf("500: %v", err)
	}
	if _, err := c.LookupCaller(ctx, "+slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v", err)
	}

	// Behind the directory: a failing CRM falls back to the contacts.
	st := memstore.New(nil)
	ct := store.Contact{Name: "Local", Numbers: []string{"+500"}}
	if err := st.Contacts().Create(ctx, &ct); err != nil {
		t.Fatal(err)
	}
	d := &controller.StoreDirectory{Contacts: st.Contacts(), CRM: c}
	if got, err := d.LookupCaller(ctx, "+500"); err != nil || got.Name != "Local" || got.Source != "directory" {
		t.Fatalf("fallback: %+v %v", got, err)
	}
	if got, err := d.LookupCaller(ctx, "+8613800001111"); err != nil || got.Source != "crm" {
		t.Fatalf("crm through the directory: %+v %v", got, err)
	}
}

func TestConfig(t *testing.T) {
	for _, cfg := range []crmhttp.Config{
		{URL: "ftp://x/${caller}"},
		{URL: "http://x/customers"},
		{URL: "/relative?${caller}"},
		{URL: "http://x/${caller}", Timeout: -1},
		{URL: "http://x/${caller}", Map: map[string]string{"bogus": "a"}},
	} {
		if _, err := crmhttp.New(cfg, nil); !errors.Is(err, crmhttp.ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func FuzzMap(f *testing.F) {
	for _, s := range []string{`{"name":"a","id":1}`, `[{"a":{"b":[1,2]}}]`, `null`, `{"name":{"x":1}}`, `"s"`, `{`} {
		f.Add([]byte(s), "a.0.b.1")
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		c, err := crmhttp.Map(body, map[string]string{"name": path, "id": "id", "fields.x": path})
		if err == nil && c.Source != "" && c.Name == "" && c.ContactID == "" {
			t.Fatalf("source %q without a name or id", c.Source)
		}
	})
}
