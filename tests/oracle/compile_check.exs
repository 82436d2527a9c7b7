# Cross-check of definitions.exs against the real compiler (development aid,
# not part of the test suite).
#
#     elixir tests/oracle/compile_check.exs FILE
#
# Compiles FILE (it must compile standalone, without dependencies), reads the
# definitions the compiler recorded in each module's debug info, and compares
# them with what definitions.exs derives from the source alone.  The compiler
# sees generated definitions the source does not show (functions injected
# by `use`, the names made by `def unquote(...)`, exception/1 and message/1 of
# defexception, ...), so its output is read by a human: lines start with
# "module", "only-compiler" or "only-oracle".  The well-known generated ones
# (__struct__/0,1, __impl__/1, impl_for/1, __protocol__/1, ...) are not shown,
# which hides exception/1 and message/1 even when the source defines them.
# Run one file per VM, as module names of different files may clash.

Process.put(:oracle_as_library, true)
Code.require_file(Path.join(__DIR__, "definitions.exs"))

[path] = System.argv()
Code.put_compiler_option(:ignore_module_conflict, true)
{:ok, ast} = Oracle.Definitions.parse(File.read!(path), path)
records = Oracle.Definitions.collect(ast)

compiled =
  Code.compile_file(path)
  |> Enum.map(fn {module, binary} ->
    {:ok, {^module, [debug_info: {:debug_info_v1, backend, data}]}} =
      :beam_lib.chunks(binary, [:debug_info])

    {:ok, %{definitions: definitions}} = backend.debug_info(:elixir_v1, module, data, [])
    {module, MapSet.new(for {{name, arity}, kind, _meta, _clauses} <- definitions, do: {kind, name, arity})}
  end)
  |> Map.new()

kind = fn
  :defguard -> :defmacro
  :defguardp -> :defmacrop
  :defdelegate -> :def
  other -> other
end

oracle =
  Map.new(records, fn m ->
    set =
      for {{k, name, arity}, min} <- m.defs, a <- min..arity, into: MapSet.new(),
        do: {kind.(k), name, a}

    {m.name, set}
  end)

name = &Oracle.Definitions.module_name/1

# Definitions Elixir generates by itself (defprotocol, defimpl, defstruct,
# defexception, @callback): not source-level, never reported by the oracle.
generated =
  MapSet.new([
    {:def, :__protocol__, 1}, {:def, :impl_for, 1}, {:def, :impl_for!, 1},
    {:defp, :struct_impl_for, 1}, {:defp, :any_impl_for, 0}, {:defp, :impl_for?, 1},
    {:def, :__impl__, 1}, {:def, :__struct__, 0}, {:def, :__struct__, 1},
    {:def, :exception, 1}, {:def, :message, 1}, {:def, :behaviour_info, 1},
    {:def, :__deriving__, 3}
  ])

for m <- Enum.uniq(Map.keys(oracle) ++ Map.keys(compiled)) |> Enum.sort() do
  case {Map.get(oracle, m), Map.get(compiled, m)} do
    {nil, _} -> IO.puts("module only-compiler #{name.(m)}")
    {_, nil} -> IO.puts("module only-oracle #{name.(m)} (not compiled: defined at run time?)")
    {o, c} ->
      for d <- MapSet.difference(c, o), d not in generated, do: IO.puts("only-compiler #{name.(m)} #{inspect(d)}")
      for d <- MapSet.difference(o, c), do: IO.puts("only-oracle #{name.(m)} #{inspect(d)}")
  end
end
