using System.Diagnostics.CodeAnalysis;

// RS0026/RS0027 (PublicApiAnalyzers) guard against optional parameters on overloaded methods, because adding an
// overload with optional parameters later can make existing calls ambiguous. The overloads below are suppressed one
// by one (new ones are still reported) for these reasons:
// - Then/Join: the overloads differ only by the shape of the user's delegate (synchronous, asynchronous, with a
//   TaskContext) or by a task class type argument, and share one optional tail, the task options callback; a call
//   binds by its delegate, so the optional parameter never makes it ambiguous.
// - WaitForSignal: the overload without a default value has the optional timeout; the one with a default value
//   needs a timeout, so it is required there.
// - Flow.Create: the overload with the optional version label (string) and the one with a version number (int) have
//   the same arity; a call binds by the type of its version argument.
// - ISayiirClient.StartAsync: one overload takes a typed definition, the other a workflow name; both end with the
//   same optional tail (instance id, start options, and the usual trailing CancellationToken).

[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``1(System.String,System.Func{`1,Sayiir.TaskContext,System.Threading.Tasks.Task{``0}},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``1(System.String,System.Func{`1,System.Threading.Tasks.Task{``0}},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``1(System.String,System.Func{`1,``0},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``2(System.String,System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``1(System.String,System.Func{`1,Sayiir.TaskContext,System.Threading.Tasks.Task{``0}},System.Func{`1,``0,Sayiir.TaskContext,System.Threading.Tasks.Task},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.Then``1(System.String,System.Func{`1,System.Threading.Tasks.Task{``0}},System.Func{`1,``0,System.Threading.Tasks.Task},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.ForkBuilder`2.Join``1(System.String,System.Func{Sayiir.BranchResults,Sayiir.TaskContext,System.Threading.Tasks.Task{``0}},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.ForkBuilder`2.Join``1(System.String,System.Func{Sayiir.BranchResults,System.Threading.Tasks.Task{``0}},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Overloads differ by delegate shape; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.ForkBuilder`2.Join``1(System.String,System.Func{Sayiir.BranchResults,``0},System.Action{Sayiir.TaskOptions})")]
[assembly: SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "A default value needs a timeout; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.FlowBuilder`2.WaitForSignal``1(System.String,System.String,System.Nullable{System.TimeSpan})")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Typed definition vs workflow name; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.ISayiirClient.StartAsync``2(Sayiir.WorkflowDefinition{``0,``1},``0,System.String,Sayiir.StartOptions,System.Threading.CancellationToken)")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Typed definition vs workflow name; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.ISayiirClient.StartAsync(System.String,System.Object,System.String,Sayiir.StartOptions,System.Threading.CancellationToken)")]
[assembly: SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "Version label vs version number; see the file comment.",
    Scope = "member", Target = "~M:Sayiir.Flow.Create``1(System.String,System.String)~Sayiir.FlowBuilder{``0,``0}")]
