package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// RunPlugin starts a Node.js plugin. Policy packs ("analyzer") are the only kind shipgate runs; the
// engine talks to them through the SDK's policy proxy, which turns the engine's stack configuration
// into the environment that @pulumi/policy reads at start-up, behind policyProxy (below), which
// answers the calls that cannot do anything for the pack.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetKind() != "analyzer" {
		return fmt.Errorf("shipgate's Node.js host runs policy packs only, not %q plugins", req.GetKind())
	}
	ctx := server.Context()
	programDir := req.GetInfo().GetProgramDirectory()
	options := req.GetInfo().GetOptions().AsMap()
	runner, err := policyPackRunner(programDir, options)
	if err != nil {
		return err
	}

	var sendMu sync.Mutex
	send := func(resp *pulumirpc.RunPluginResponse) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return server.Send(resp)
	}
	stdout := &streamWriter{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	stderr := &streamWriter{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}

	proxy, packStdout, err := newPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("starting the policy proxy: %w", err)
	}
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the engine's stack configuration: %w", err)
	}

	engineAddress := h.engine()
	if len(req.GetArgs()) > 0 {
		engineAddress = req.GetArgs()[len(req.GetArgs())-1]
	}
	env, err := policyPackEnv(req.GetEnv(), stack)
	if err != nil {
		return err
	}
	args := append(nodeArgs(options), runner, engineAddress, programDir)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = packStdout
	cmd.Stderr = stderr
	if err := h.start(cmd); err != nil {
		return fmt.Errorf("starting node for the policy pack in %s: %w", programDir, err)
	}
	defer func() {
		h.mu.Lock()
		delete(h.children, cmd)
		h.mu.Unlock()
	}()

	exitCode := int32(0)
	if err := proxy.Attach(ctx, cmd); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("policy pack in %s: %w", programDir, err)
		}
		exitCode = int32(exitErr.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: exitCode}})
}

// policyPackEnv is the environment @pulumi/pulumi reads in a policy pack to learn which stack it is
// checking (stack tags reach @pulumi/policy through the ConfigureStack call the proxy forwards).
func policyPackEnv(base []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	env := append(withCompileCache(os.Environ()), base...)
	if stack == nil {
		return env, nil
	}
	configJSON, err := json.Marshal(stack.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("encoding the stack's configuration for the policy pack: %w", err)
	}
	secretKeysJSON, err := json.Marshal(nonNil(stack.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("encoding the stack's secret keys for the policy pack: %w", err)
	}
	return append(env,
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
		"PULUMI_NODEJS_ORGANIZATION="+stack.GetOrganization(),
		"PULUMI_NODEJS_PROJECT="+stack.GetProject(),
		"PULUMI_NODEJS_STACK="+stack.GetStack(),
		"PULUMI_NODEJS_DRY_RUN="+strconv.FormatBool(stack.GetDryRun()),
	), nil
}

// policyPackRunner is the script that starts a policy pack. By default it is @pulumi/pulumi's
// `run-policy-pack`, which loads the whole SDK and registers ts-node before it loads the pack: most of
// a second of CPU on every preview and `up`, while the engine waits for the pack before it starts the
// program. A pack may name its own starter instead, in the `runner` runtime option of
// PulumiPolicy.yaml (a file inside the pack's folder), which is started with the same arguments
// (engine address, pack folder) and must serve the analyzer and print its port the same way.
func policyPackRunner(dir string, options map[string]any) (string, error) {
	raw, ok := options["runner"]
	if !ok {
		return findRunner(dir, "run-policy-pack")
	}
	name, isString := raw.(string)
	if !isString || name == "" || filepath.IsAbs(name) {
		return "", fmt.Errorf("the `runner` runtime option of %s must be a file "+
			"inside the pack's folder, not %v", filepath.Join(dir, "PulumiPolicy.yaml"), raw)
	}
	path := filepath.Join(dir, name)
	if rel, err := filepath.Rel(dir, path); err != nil || rel == ".." ||
		strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("the `runner` runtime option of %s must be a file "+
			"inside the pack's folder, not %q", filepath.Join(dir, "PulumiPolicy.yaml"), name)
	}
	if info, err := os.Stat(path); err != nil || info.IsDir() {
		return "", fmt.Errorf("the policy pack's runner %s (the `runner` runtime option of its "+
			"PulumiPolicy.yaml) is not a file", path)
	}
	return path, nil
}

// policyProxy is the SDK's policy proxy (which starts the pack once the engine has sent the stack's
// configuration and forwards every call to it) with one call answered here: Remediate, when no policy
// of the pack can remediate.
//
// The engine asks every policy pack to remediate each resource before it analyzes it, one resource
// after another, and waits for the answer. @pulumi/policy runs a remediation only for a policy whose
// enforcement level is `remediate` (from the stack's policy config, else the policy's own level), and
// answers with nothing at all otherwise. shipgate's pack never remediates: a gate that rewrote the
// release it judges would not be a gate. Yet each of those calls went through two gRPC hops and a
// Node.js event loop, about 5 ms per resource on the path of every preview and `up`. So the proxy
// answers Remediate itself with the same empty answer, but only while it knows that no policy is at
// `remediate`: once it has forwarded the pack's own GetAnalyzerInfo (the policies' levels and the
// pack's initial config) and for as long as no Configure from the engine set that level. Any call
// before that, or with any policy at `remediate`, goes to the pack as before. Analyze, the call that
// judges, always goes to the pack.
type policyProxy struct {
	*sdk.PolicyProxy

	mu sync.Mutex
	// infoSeen is set once the pack's GetAnalyzerInfo went through this proxy.
	infoSeen bool
	// packRemediates: a policy's own level, or the pack's initial config, is `remediate`.
	packRemediates bool
	// configRemediates: the engine's last Configure set `remediate` for a policy.
	configRemediates bool
}

// newPolicyProxy starts the SDK's policy proxy and this one in front of it. Like sdk.NewPolicyProxy
// it returns the writer for the pack's stdout; `stdout` is the engine's. The engine connects to the
// port a proxy prints first: the SDK's proxy prints its own port on its first write, which is
// replaced by this proxy's port (the SDK proxy keeps serving on its port, unused).
func newPolicyProxy(ctx context.Context, stdout io.Writer) (*policyProxy, io.Writer, error) {
	swap := &portSwap{out: stdout}
	inner, packStdout, err := sdk.NewPolicyProxy(ctx, swap)
	if err != nil {
		return nil, nil, err
	}
	proxy := &policyProxy{PolicyProxy: inner}

	cancel := make(chan bool, 1)
	go func() {
		<-ctx.Done()
		cancel <- true
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterAnalyzerServer(srv, proxy)
			return nil
		},
	})
	if err != nil {
		return nil, nil, err
	}
	swap.setPort(handle.Port)
	return proxy, packStdout, nil
}

func (p *policyProxy) GetAnalyzerInfo(ctx context.Context, req *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	info, err := p.PolicyProxy.GetAnalyzerInfo(ctx, req)
	if err != nil {
		return nil, err
	}
	remediates := false
	for _, policy := range info.GetPolicies() {
		remediates = remediates || policy.GetEnforcementLevel() == pulumirpc.EnforcementLevel_REMEDIATE
	}
	for _, config := range info.GetInitialConfig() {
		remediates = remediates || config.GetEnforcementLevel() == pulumirpc.EnforcementLevel_REMEDIATE
	}
	p.mu.Lock()
	p.infoSeen = true
	p.packRemediates = remediates
	p.mu.Unlock()
	return info, nil
}

func (p *policyProxy) Configure(
	ctx context.Context, req *pulumirpc.ConfigureAnalyzerRequest,
) (*emptypb.Empty, error) {
	remediates := false
	for _, config := range req.GetPolicyConfig() {
		remediates = remediates || config.GetEnforcementLevel() == pulumirpc.EnforcementLevel_REMEDIATE
	}
	// Recorded before the call goes on: a Remediate racing a failing Configure is forwarded.
	p.mu.Lock()
	p.configRemediates = p.configRemediates || remediates
	p.mu.Unlock()
	resp, err := p.PolicyProxy.Configure(ctx, req)
	if err == nil {
		p.mu.Lock()
		p.configRemediates = remediates
		p.mu.Unlock()
	}
	return resp, err
}

// mayRemediate is false only when the pack is known to have no policy at `remediate`.
func (p *policyProxy) mayRemediate() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.infoSeen || p.packRemediates || p.configRemediates
}

func (p *policyProxy) Remediate(
	ctx context.Context, req *pulumirpc.AnalyzeRequest,
) (*pulumirpc.RemediateResponse, error) {
	if p.mayRemediate() {
		return p.PolicyProxy.Remediate(ctx, req)
	}
	// What @pulumi/policy answers when no policy is at `remediate`: no remediation, nothing reported
	// as not applicable.
	return &pulumirpc.RemediateResponse{}, nil
}

// portSwap passes writes on to `out`, but for the first, the SDK proxy's port line, which it
// replaces with this proxy's port.
type portSwap struct {
	out io.Writer

	mu      sync.Mutex
	port    int
	swapped bool
}

var portLine = regexp.MustCompile(`^[0-9]+\n$`)

func (s *portSwap) setPort(port int) {
	s.mu.Lock()
	s.port = port
	s.mu.Unlock()
}

func (s *portSwap) Write(b []byte) (int, error) {
	s.mu.Lock()
	if s.swapped {
		s.mu.Unlock()
		return s.out.Write(b)
	}
	s.swapped = true
	port := s.port
	s.mu.Unlock()
	// Anything else first would mean the SDK's proxy changed how it starts: the engine must not be
	// sent to the wrong port, so the pack fails to start instead.
	if port == 0 || !portLine.Match(b) {
		return 0, fmt.Errorf("the policy proxy's first output was not its port (%q)", b)
	}
	if _, err := fmt.Fprintf(s.out, "%d\n", port); err != nil {
		return 0, err
	}
	return len(b), nil
}
