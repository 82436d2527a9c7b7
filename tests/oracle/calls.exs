# Lists the calls and module references of Elixir files as Elixir's own compiler sees them:
# compiles the files together (they must compile with the standard library alone) with a
# compilation tracer, the mechanism `mix xref` is built on, and prints one JSON object per
# traced event. `tests/calls.rs` and `tests/graph.rs` compare elixirscope's resolution and
# graph labels with it.
#
#     elixir tests/oracle/calls.exs ROOT FILE...
#
# Each line: {"path": FILE relative to ROOT, "line": 3, "column": 5 (or null), "event":
# "remote_function" | "remote_macro" | "imported_function" | "imported_macro" |
# "local_function" | "local_macro" | "alias_reference" | "struct_expansion" | "require" |
# "import", "module": "Calls.Helpers" (":ets" for Erlang; absent for local calls), "name":
# "double", "arity": 1, "caller": "Calls.Remote" (or null at a script's top level),
# "function": "run/1" (or null outside functions), "label": "compile" | "export" |
# "runtime"}. `label` is the one `mix xref trace` gives the event. Lines are sorted.

defmodule Oracle.Calls.Tracer do
  @moduledoc false

  @table :oracle_calls

  def start, do: :ets.new(@table, [:named_table, :public, :duplicate_bag])

  def events, do: :ets.tab2list(@table) |> Enum.map(&elem(&1, 1))

  # The labels of Mix.Tasks.Xref.trace/2.
  def trace({:require, meta, module, _opts}, env),
    do: add(:require, meta, module, nil, nil, :export, env)

  def trace({:import, meta, module, _opts}, env),
    do: add(:import, meta, module, nil, nil, :export, env)

  def trace({:struct_expansion, meta, module, _keys}, env),
    do: add(:struct_expansion, meta, module, nil, nil, :export, env)

  def trace({:alias_reference, meta, module}, env) when env.module != module,
    do: add(:alias_reference, meta, module, nil, nil, mode(env), env)

  def trace({:remote_function, meta, module, name, arity}, env),
    do: add(:remote_function, meta, module, name, arity, mode(env), env)

  def trace({:remote_macro, meta, module, name, arity}, env),
    do: add(:remote_macro, meta, module, name, arity, :compile, env)

  def trace({:imported_function, meta, module, name, arity}, env),
    do: add(:imported_function, meta, module, name, arity, mode(env), env)

  def trace({:imported_macro, meta, module, name, arity}, env),
    do: add(:imported_macro, meta, module, name, arity, :compile, env)

  def trace({:local_function, meta, name, arity}, env),
    do: add(:local_function, meta, nil, name, arity, mode(env), env)

  def trace({:local_macro, meta, name, arity}, env),
    do: add(:local_macro, meta, nil, name, arity, :compile, env)

  def trace(_event, _env), do: :ok

  defp mode(%{function: nil}), do: :compile
  defp mode(_), do: :runtime

  defp add(event, meta, module, name, arity, label, env) do
    function =
      case env.function do
        {f, a} -> "#{f}/#{a}"
        nil -> nil
      end

    entry = %{
      path: env.file,
      line: meta[:line] || env.line,
      column: meta[:column],
      event: event,
      module: module && inspect(module),
      name: name && Atom.to_string(name),
      arity: arity,
      caller: env.module && inspect(env.module),
      function: function,
      label: label
    }

    :ets.insert(@table, {:event, entry})
    :ok
  end
end

defmodule Oracle.Calls.Json do
  @moduledoc false

  def encode(map) do
    fields =
      [:path, :line, :column, :event, :module, :name, :arity, :caller, :function, :label]
      |> Enum.map(fn key -> "\"#{key}\":" <> value(Map.fetch!(map, key)) end)

    "{" <> Enum.join(fields, ",") <> "}"
  end

  defp value(nil), do: "null"
  defp value(integer) when is_integer(integer), do: Integer.to_string(integer)
  defp value(atom) when is_atom(atom), do: value(Atom.to_string(atom))

  defp value(string) when is_binary(string) do
    escaped =
      string
      |> String.replace("\\", "\\\\")
      |> String.replace("\"", "\\\"")
      |> String.replace("\n", "\\n")

    "\"" <> escaped <> "\""
  end
end

[root | files] = System.argv()
root = Path.expand(root)
ExUnit.start(autorun: false)
Oracle.Calls.Tracer.start()
Code.put_compiler_option(:tracers, [Oracle.Calls.Tracer])
Code.put_compiler_option(:parser_options, columns: true)
Code.put_compiler_option(:ignore_module_conflict, true)

# Top-level code of scripts prints: keep standard output for the events.
stdout = Process.group_leader()
{:ok, device} = StringIO.open("")
Process.group_leader(self(), device)
{:ok, _modules, _warnings} = Kernel.ParallelCompiler.compile(Enum.map(files, &Path.expand/1))
Process.group_leader(self(), stdout)

lines =
  Oracle.Calls.Tracer.events()
  |> Enum.map(fn event -> %{event | path: Path.relative_to(event.path, root)} end)
  |> Enum.map(&Oracle.Calls.Json.encode/1)
  |> Enum.sort()
  |> Enum.uniq()

IO.write(:stdio, Enum.map(lines, &[&1, "\n"]))
