package main

// Help answers on purpose wrong, to check what the host does with them. The
// mode (helpmode, stored per mount) picks how help on the mount root
// answers:
//
//	""           the framework's own help (text and OpenAPI document)
//	handmade     a hand-written document with keys the server's OpenAPI
//	             decoder drops ($ref, x- extensions) and string status codes
//	error        an error
//	unsupported  "unsupported operation"
//	nil          no response at all
//	malformed    an openapi object whose paths are not a map
//	badtype      an openapi object whose version is a boolean
//	noopenapi    help text without a document
//
// Independently, help on helpnil gives no response and on helperr an error
// response without an error. Every help request is stored under last/help.

import (
	"context"
	"errors"

	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/logical"
)

const rootHelpText = "The vault-host test plugin."

type helpModes struct {
	*testBackend
}

func (b *testBackend) setHelpMode(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return nil, put(ctx, req.Storage, "helpmode", []byte(d.Get("mode").(string)))
}

func (h *helpModes) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	if req.Operation != logical.HelpOperation {
		return h.testBackend.HandleRequest(ctx, req)
	}
	recordWire(ctx, req.Storage, "last/help")
	switch req.Path {
	case "helpnil":
		return nil, nil
	case "helperr":
		return logical.ErrorResponse("no help for you"), nil
	case "":
		return h.rootHelp(ctx, req)
	}
	return h.testBackend.HandleRequest(ctx, req)
}

func (h *helpModes) rootHelp(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	mode := ""
	if entry, err := req.Storage.Get(ctx, "helpmode"); err == nil && entry != nil {
		mode = string(entry.Value)
	}
	helpWith := func(doc any) *logical.Response {
		data := map[string]interface{}{"help": rootHelpText, "see_also": nil}
		if doc != nil {
			data["openapi"] = doc
		}
		return &logical.Response{Data: data}
	}
	switch mode {
	case "handmade":
		return helpWith(handmadeDocument()), nil
	case "error":
		return nil, errors.New("help exploded")
	case "unsupported":
		return nil, logical.ErrUnsupportedOperation
	case "nil":
		return nil, nil
	case "malformed":
		return helpWith(map[string]interface{}{"openapi": "3.0.2", "paths": "not-a-map"}), nil
	case "badtype":
		return helpWith(map[string]interface{}{"openapi": true, "paths": map[string]interface{}{}}), nil
	case "noopenapi":
		return helpWith(nil), nil
	}
	return h.testBackend.HandleRequest(ctx, req)
}

// handmadeDocument is an OpenAPI document as a plugin not built on the SDK
// might send it.
func handmadeDocument() map[string]interface{} {
	return map[string]interface{}{
		"openapi": "3.0.2",
		"info":    map[string]interface{}{"title": "handmade", "version": "v0"},
		"paths": map[string]interface{}{
			"/kv/{key}": map[string]interface{}{
				"x-tp-extension":          "not part of the OAS path item",
				"x-vault-createSupported": true,
				"post": map[string]interface{}{
					"operationId": "tp-write-kv",
					"requestBody": map[string]interface{}{"content": map[string]interface{}{
						"application/json": map[string]interface{}{"schema": map[string]interface{}{"$ref": "#/components/schemas/TpWriteKvRequest"}},
					}},
					"responses": map[string]interface{}{"204": map[string]interface{}{"description": "empty body"}},
				},
			},
		},
		"components": map[string]interface{}{"schemas": map[string]interface{}{
			"TpWriteKvRequest": map[string]interface{}{"type": "object", "properties": map[string]interface{}{
				"v": map[string]interface{}{"type": "string"},
			}},
		}},
	}
}
