// Command pulumi-language-nodejs is shipgate's Node.js language host for the Pulumi engine.
//
// The engine starts a language host to run a program and to start Node.js plugins such as policy
// packs. The Go module that holds Pulumi's own Node.js host is not served by the module proxy this
// project builds from, so shipgate builds this small host instead, against the same version of the
// Pulumi SDK as the CLI. It implements what a release needs: running a Node.js program through
// `@pulumi/pulumi/cmd/run`, running a Node.js policy pack through `@pulumi/pulumi/cmd/run-policy-pack`
// or the starter the pack names itself, and the informational calls the CLI makes (plugin info,
// about, dependencies).
//
// It deliberately does not discover provider plugins from node_modules: shipgate's stacks use no
// provider that the engine would have to download, and an engine that tried would fail on a machine
// without network access.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at link time to the Pulumi version this host was built against.
var version = "0.0.0-dev"

// exitCodeUserActionable is the code with which @pulumi/pulumi's runner exits after it has already
// shown the user an actionable message; the engine must then bail without adding its own.
const exitCodeUserActionable = 32

func main() {
	// The engine may pass logging and tracing flags before the engine address. The SDK's logging
	// package registers some of them already; accept the others and ignore them.
	for name, usage := range map[string]string{
		"logtostderr": "log to stderr", "logflow": "flow logging settings to children",
		"v": "log verbosity", "tracing": "tracing endpoint", "root": "project root",
	} {
		if flag.Lookup(name) == nil {
			flag.String(name, "", usage+" (ignored)")
		}
	}
	flag.Parse()

	host := &languageHost{engineAddress: flag.Arg(0), children: map[*exec.Cmd]struct{}{}}
	go host.exitWithEngine(os.Getppid())

	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	children      map[*exec.Cmd]struct{}
}

// engineWatchInterval is how often the host checks that the engine that started it still runs.
const engineWatchInterval = 200 * time.Millisecond

// exitWithEngine stops the host and the Node.js processes it started (the program, a policy pack)
// once the engine that started it is gone. An engine that crashes or is killed cannot stop its
// plugins, and a program or policy pack left running has nobody to answer to: it would hold files
// and ports, and a program could go on acting for a run that no longer exists. When the engine
// dies the host is handed to another parent, which is how it notices.
func (h *languageHost) exitWithEngine(enginePid int) {
	for range time.Tick(engineWatchInterval) {
		if os.Getppid() == enginePid {
			continue
		}
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: the engine (pid %d) is gone; stopping\n", enginePid)
		h.mu.Lock()
		for cmd := range h.children {
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
		h.mu.Unlock()
		os.Exit(1)
	}
}

// start starts a Node.js child that dies with the host: the kernel sends it SIGKILL when the host
// exits for any reason (the engine stopping it after a run, or a crash), so no program or policy
// pack outlives the run it belonged to.
func (h *languageHost) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	h.children[cmd] = struct{}{}
	return nil
}

// wait waits for a child started with start and forgets it.
func (h *languageHost) wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	h.mu.Lock()
	delete(h.children, cmd)
	h.mu.Unlock()
	return err
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *languageHost) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *languageHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodePath, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node was not found on PATH: install Node.js 22 or run `npm run setup`")
	}
	out, err := exec.Command(nodePath, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", nodePath, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodePath,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// InstallDependencies installs a Node.js project's packages when its node_modules folder is missing.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // older engines send only the directory
	}
	if findUp(dir, filepath.Join("node_modules", "@pulumi", "pulumi", "package.json")) != "" {
		return nil
	}
	stream := &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	cmd := exec.CommandContext(server.Context(), "npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout = stream
	cmd.Stderr = stream
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s failed: %w", dir, err)
	}
	return nil
}

// Run runs a Node.js program through @pulumi/pulumi's runner, which connects to the resource monitor.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	runner, err := findRunner(programDir, "run")
	if err != nil {
		return nil, err
	}
	options := info.GetOptions().AsMap()

	args := nodeArgs(options)
	args = append(args, runner,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--organization", req.GetOrganization(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--root-directory", info.GetRootDirectory(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	configJSON, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("encoding the stack's configuration: %w", err)
	}
	secretKeysJSON, err := json.Marshal(nonNil(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("encoding the stack's secret keys: %w", err)
	}
	env := append(withCompileCache(os.Environ()),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
		"PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(boolOption(options, "typescript", true)),
	)
	if tsconfig, ok := options["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }

	err = h.start(cmd)
	if err == nil {
		err = h.wait(cmd)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeUserActionable {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("the Node.js program exited with code %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin starts a Node.js plugin. Policy packs ("analyzer") are the only kind shipgate runs; the
// engine talks to them through the SDK's policy proxy, which turns the engine's stack configuration
// into the environment that @pulumi/policy reads at start-up.
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

	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
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

// withCompileCache turns on Node.js's on-disk compile cache (Node.js 22.1 and newer; older versions
// ignore the variable) for the program and the policy pack, unless the user chose a cache or turned
// it off. Both load @pulumi/pulumi and, through the runner, the TypeScript compiler: megabytes of
// JavaScript that V8 would otherwise compile again on every preview and `up`, while the engine
// waits. The cache is keyed by each file's contents, so a changed file is compiled afresh.
func withCompileCache(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "NODE_COMPILE_CACHE=") || strings.HasPrefix(kv, "NODE_DISABLE_COMPILE_CACHE=") {
			return env
		}
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return env
	}
	return append(env, "NODE_COMPILE_CACHE="+filepath.Join(base, "shipgate", "node-compile-cache"))
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

// findRunner locates @pulumi/pulumi's entry script `cmd/<name>` by walking up from dir, the way
// Node.js resolves a package from that directory.
func findRunner(dir, name string) (string, error) {
	found := findUp(dir, filepath.Join("node_modules", "@pulumi", "pulumi", "cmd", name, "index.js"))
	if found == "" {
		return "", fmt.Errorf("@pulumi/pulumi is not installed for %s: run `npm install` there "+
			"(or `npm run setup` at the project root)", dir)
	}
	return found, nil
}

func findUp(dir, rel string) string {
	for d := dir; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, rel)
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// nodeArgs splits the `nodeargs` runtime option of Pulumi.yaml into node's own arguments.
func nodeArgs(options map[string]any) []string {
	if raw, ok := options["nodeargs"].(string); ok {
		return strings.Fields(raw)
	}
	return []string{}
}

func boolOption(options map[string]any, key string, fallback bool) bool {
	switch v := options[key].(type) {
	case bool:
		return v
	case string:
		if parsed, err := strconv.ParseBool(v); err == nil {
			return parsed
		}
	}
	return fallback
}

func nonNil(keys []string) []string {
	if keys == nil {
		return []string{}
	}
	return keys
}

// streamWriter forwards everything written to it to a gRPC stream.
type streamWriter struct {
	send func([]byte) error
}

var _ io.Writer = (*streamWriter)(nil)

func (w *streamWriter) Write(p []byte) (int, error) {
	chunk := make([]byte, len(p))
	copy(chunk, p)
	if err := w.send(chunk); err != nil {
		return 0, err
	}
	return len(p), nil
}
