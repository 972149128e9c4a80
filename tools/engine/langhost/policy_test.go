package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestRemediateIsForwardedUntilThePacksLevelsAreKnown(t *testing.T) {
	proxy := &policyProxy{}
	if !proxy.mayRemediate() {
		t.Fatal("before GetAnalyzerInfo the proxy must forward Remediate to the pack")
	}
}

func TestRemediateIsAnsweredHereWhenNoPolicyRemediates(t *testing.T) {
	// No SDK proxy behind it: a forwarded call would fail, so the empty answer came from here.
	proxy := &policyProxy{infoSeen: true}
	resp, err := proxy.Remediate(context.Background(), &pulumirpc.AnalyzeRequest{Urn: "urn:x"})
	if err != nil {
		t.Fatalf("Remediate: %v", err)
	}
	if len(resp.GetRemediations()) != 0 || len(resp.GetNotApplicable()) != 0 {
		t.Fatalf("Remediate answered %v, want an empty response", resp)
	}
}

func TestRemediateIsForwardedWhenAPolicyOrTheConfigRemediates(t *testing.T) {
	if !(&policyProxy{infoSeen: true, packRemediates: true}).mayRemediate() {
		t.Fatal("a policy whose own level is remediate must get Remediate calls")
	}
	if !(&policyProxy{infoSeen: true, configRemediates: true}).mayRemediate() {
		t.Fatal("a policy set to remediate by the stack's config must get Remediate calls")
	}
}

func TestConfigureThatFailsKeepsForwarding(t *testing.T) {
	// Configure goes on to the SDK proxy, whose pack never started: with the call's context gone it
	// fails, and a config that set remediate must still count.
	serve, stop := context.WithCancel(context.Background())
	defer stop()
	inner, _, err := sdk.NewPolicyProxy(serve, io.Discard)
	if err != nil {
		t.Fatalf("starting the SDK's policy proxy: %v", err)
	}
	proxy := &policyProxy{PolicyProxy: inner, infoSeen: true}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = proxy.Configure(gone, &pulumirpc.ConfigureAnalyzerRequest{
		PolicyConfig: map[string]*pulumirpc.PolicyConfig{
			"fix-tags": {EnforcementLevel: pulumirpc.EnforcementLevel_REMEDIATE},
		},
	})
	if err == nil {
		t.Fatal("Configure without a pack must fail")
	}
	if !proxy.mayRemediate() {
		t.Fatal("a Configure that set remediate must keep Remediate forwarded even when it failed")
	}
}

func TestPortSwapReplacesTheFirstLineOnly(t *testing.T) {
	var out bytes.Buffer
	swap := &portSwap{out: &out}
	swap.setPort(4321)
	if n, err := swap.Write([]byte("1234\n")); err != nil || n != 5 {
		t.Fatalf("first write: %d, %v", n, err)
	}
	if _, err := swap.Write([]byte("1234\n")); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if got := out.String(); got != "4321\n1234\n" {
		t.Fatalf("the engine was sent %q, want the proxy's port, then the rest unchanged", got)
	}
}

func TestPortSwapRefusesAFirstLineThatIsNoPort(t *testing.T) {
	var out bytes.Buffer
	swap := &portSwap{out: &out}
	swap.setPort(4321)
	if _, err := swap.Write([]byte("hello\n")); err == nil {
		t.Fatal("a first write that is not a port must fail")
	}
	if out.Len() != 0 {
		t.Fatalf("nothing may reach the engine then, got %q", out.String())
	}
}
