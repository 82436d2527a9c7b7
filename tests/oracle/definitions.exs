# Oracle for elixirscope's module/definition facts.
#
#     elixir tests/oracle/definitions.exs FILE...
#
# For every FILE prints exactly one line of JSON (see README.md next to this
# file for the format and the rules).  It only *parses* the files, with
# Elixir's own parser (`Code.string_to_quoted/2`), and then applies the naming
# rules of Kernel.defmodule/2, Kernel.defprotocol/2 and Kernel.defimpl/3 to the
# quoted AST.  Nothing is compiled or evaluated; no dependencies are needed.

defmodule Oracle.JSON do
  @moduledoc false
  # Minimal JSON encoder.  Objects are `{:obj, [{key, value}]}` so that key
  # order is deterministic; lists are JSON arrays; binaries are strings.

  def encode({:obj, pairs}) do
    inner = Enum.map_join(pairs, ",", fn {k, v} -> string(to_string(k)) <> ":" <> encode(v) end)
    "{" <> inner <> "}"
  end

  def encode(list) when is_list(list), do: "[" <> Enum.map_join(list, ",", &encode/1) <> "]"
  def encode(nil), do: "null"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(int) when is_integer(int), do: Integer.to_string(int)
  def encode(bin) when is_binary(bin), do: string(bin)
  def encode(atom) when is_atom(atom), do: string(Atom.to_string(atom))

  def string(bin), do: IO.iodata_to_binary([?", escape(bin, []), ?"])

  defp escape(<<>>, acc), do: Enum.reverse(acc)
  defp escape(<<?", rest::binary>>, acc), do: escape(rest, ["\\\"" | acc])
  defp escape(<<?\\, rest::binary>>, acc), do: escape(rest, ["\\\\" | acc])
  defp escape(<<?\n, rest::binary>>, acc), do: escape(rest, ["\\n" | acc])
  defp escape(<<?\r, rest::binary>>, acc), do: escape(rest, ["\\r" | acc])
  defp escape(<<?\t, rest::binary>>, acc), do: escape(rest, ["\\t" | acc])
  defp escape(<<?\b, rest::binary>>, acc), do: escape(rest, ["\\b" | acc])
  defp escape(<<?\f, rest::binary>>, acc), do: escape(rest, ["\\f" | acc])

  defp escape(<<c, rest::binary>>, acc) when c < 0x20 do
    hex = c |> Integer.to_string(16) |> String.pad_leading(4, "0")
    escape(rest, ["\\u" <> hex | acc])
  end

  # Valid UTF-8 is copied as is; an invalid byte becomes U+FFFD.
  defp escape(<<c::utf8, rest::binary>>, acc), do: escape(rest, [<<c::utf8>> | acc])
  defp escape(<<_invalid, rest::binary>>, acc), do: escape(rest, ["\\ufffd" | acc])
end

defmodule Oracle.Definitions do
  @moduledoc false

  @def_kinds [:def, :defp, :defmacro, :defmacrop, :defguard, :defguardp, :defdelegate]
  @module_kinds [:defmodule, :defprotocol, :defimpl]

  # ---------------------------------------------------------------------------
  # Entry point

  def main(paths) do
    Enum.each(paths, fn path -> IO.puts(Oracle.JSON.encode(file(path))) end)
  end

  def parse(source, path),
    do: source |> strip_bom() |> Code.string_to_quoted(columns: true, file: path, emit_warnings: false)

  def file(path) do
    case File.read(path) do
      {:ok, source} ->
        case parse(source, path) do
          {:ok, ast} ->
            {:obj, [path: path, parse: "ok", modules: modules(ast)]}

          {:error, {location, message, token}} ->
            {:obj, [path: path, parse: "error", message: error_message(location, message, token)]}
        end

      {:error, reason} ->
        {:obj, [path: path, parse: "error", message: "cannot read file: #{:file.format_error(reason)}"]}
    end
  end

  defp strip_bom(<<0xEF, 0xBB, 0xBF, rest::binary>>), do: rest
  defp strip_bom(source), do: source

  defp error_message(location, message, token) do
    {line, column} =
      case location do
        loc when is_list(loc) -> {Keyword.get(loc, :line), Keyword.get(loc, :column)}
        line when is_integer(line) -> {line, nil}
        _ -> {nil, nil}
      end

    text =
      case message do
        {prefix, suffix} -> to_string(prefix) <> to_string(token) <> to_string(suffix)
        message -> to_string(message) <> to_string(token)
      end

    where = if column, do: "#{line}:#{column}", else: "#{line}"
    where <> ": " <> text
  end

  # ---------------------------------------------------------------------------
  # The walk
  #
  # env: %{module: atom | nil, id: integer | nil, aliases: %{short => full}}
  #   (id identifies the module record being filled, see new_module/2)
  #
  # mode says where the walk is:
  #   :top       outside any module (definitions are ignored)
  #   :body      in the body of module env.module (definitions are recorded)
  #   :code      in a function body, or in code unquoted inside a quote: only
  #              nested modules and quotes matter there
  #   :template  in a quote, at its top level: definitions are recorded as
  #              injected into env.module
  #   :qcode     in a quote, inside a function body of the template
  # In :template and :qcode, modules are skipped (they belong to the template)
  # and `unquote`/`unquote_splicing` arguments are walked as :code.
  #
  # walk/3 returns the env for the following expressions: only `alias`,
  # `require ..., as:`, nested `defmodule`/`defprotocol` and plain blocks
  # change it; every other construct is its own lexical scope.  Module records
  # are accumulated in the process dictionary.

  defguardp in_quote(mode) when mode in [:template, :qcode]

  def modules(ast), do: ast |> collect() |> Enum.map(&render_module/1)

  # Raw module records, sorted: %{name: atom, line:, defs: %{{kind, name,
  # arity} => min_arity}, dynamic: count, injected: [{kind, name, arity}]}
  def collect(ast) do
    Process.put(:modules, %{})
    Process.put(:counter, 0)
    walk(ast, %{module: nil, id: nil, aliases: %{}}, :top)

    Process.get(:modules)
    |> Map.values()
    |> Enum.sort_by(fn m -> {module_name(m.name), m.line, m.id} end)
  end

  defp render_module(m) do
    defs =
      m.defs
      |> Enum.map(fn {{kind, name, arity}, min} -> {Atom.to_string(kind), Atom.to_string(name), arity, min} end)
      |> Enum.sort()
      |> Enum.map(fn {kind, name, arity, min} ->
        {:obj, [kind: kind, name: name, arity: arity, min_arity: min]}
      end)

    injected =
      m.injected
      |> Enum.map(fn {kind, name, arity} -> {Atom.to_string(kind), Atom.to_string(name), arity} end)
      |> Enum.uniq()
      |> Enum.sort()
      |> Enum.map(fn {kind, name, arity} -> {:obj, [kind: kind, name: name, arity: arity]} end)

    {:obj,
     [
       name: module_name(m.name),
       line: m.line,
       definitions: defs,
       dynamic: m.dynamic,
       injected: injected
     ]}
  end

  def module_name(atom) do
    case Atom.to_string(atom) do
      "Elixir." <> rest -> rest
      _ -> inspect(atom)
    end
  end

  # Blocks thread the environment through their expressions.
  defp walk({:__block__, _, exprs}, env, mode) when is_list(exprs) do
    Enum.reduce(exprs, env, fn expr, env -> walk(expr, env, mode) end)
  end

  # Directives that change the aliases of the following expressions.  In a
  # quote they are part of the template, not of this module.
  defp walk({:alias, _, [target]}, env, mode) when not in_quote(mode),
    do: add_alias(env, target, [])

  defp walk({:alias, _, [target, opts]}, env, mode) when not in_quote(mode) and is_list(opts),
    do: add_alias(env, target, opts)

  defp walk({:require, _, [target, opts]}, env, mode) when not in_quote(mode) and is_list(opts) do
    if Keyword.has_key?(opts, :as), do: add_alias(env, target, opts), else: env
  end

  # A module attribute (`@def 1` is the attribute :def, not a definition).
  defp walk({:@, _, [{name, _, args}]}, env, mode) when is_atom(name) and is_list(args) do
    walk_list(args, env, mode)
  end

  # quote: its body is a template for other modules.
  defp walk({:quote, _, args} = call, env, mode) when is_list(args) do
    case quote_body(args) do
      {:ok, body} -> walk(body, env, :template)
      :error -> walk_children(call, env, mode)
    end

    env
  end

  # Code unquoted into a template runs in the macro: it is ordinary code.
  defp walk({unquote, _, args}, env, mode)
       when unquote in [:unquote, :unquote_splicing] and in_quote(mode) and is_list(args) do
    walk_list(args, env, :code)
  end

  # Modules defined by a template are not modules of this file.
  defp walk({kind, _, _}, env, mode) when kind in @module_kinds and in_quote(mode), do: env

  # defmodule / defprotocol (Kernel.defprotocol/2 expands to defmodule).
  defp walk({kind, meta, [name_ast, opts]} = call, env, mode)
       when kind in [:defmodule, :defprotocol] and is_list(opts) do
    with true <- Keyword.keyword?(opts),
         {:ok, body} <- Keyword.fetch(opts, :do) do
      case nested_name(name_ast, env) do
        {:ok, full, new_alias} ->
          id = new_module(full, meta)
          inner_env = %{put_alias(env, new_alias) | module: full, id: id}
          walk(body, inner_env, :body)
          put_alias(env, new_alias)

        # A name only known at run time (a variable, a call): the module and
        # everything inside it is left out.
        :error ->
          env
      end
    else
      _ ->
        walk_children(call, env, mode)
        env
    end
  end

  # defimpl P, for: T | defimpl P, for: [A, B] | defimpl P (for: __MODULE__)
  defp walk({:defimpl, meta, [proto | rest]} = call, env, mode)
       when rest != [] and length(rest) <= 2 do
    if Enum.all?(rest, &(is_list(&1) and Keyword.keyword?(&1))) do
      opts = Enum.concat(rest)

      for_ast =
        case Keyword.fetch(opts, :for) do
          {:ok, for_ast} -> for_ast
          :error -> if env.module, do: env.module, else: :none
        end

      with {:ok, body} <- Keyword.fetch(opts, :do),
           {:ok, protocol} <- expand(proto, env),
           {:ok, targets} <- expand_targets(for_ast, env) do
        for target <- targets do
          full = Module.concat(protocol, target)
          id = new_module(full, meta)
          walk(body, %{env | module: full, id: id}, :body)
        end
      end

      env
    else
      walk_children(call, env, mode)
      env
    end
  end

  # Definitions in a module body or at the top level of a template.
  defp walk({kind, _, args} = call, env, mode)
       when kind in @def_kinds and mode in [:body, :template] and is_list(args) do
    if definition_args?(args) do
      for head <- heads(kind, call) do
        case {mode, head} do
          {:body, {:ok, name, arity, min}} -> record_def(env.id, {kind, name, arity}, min)
          {:body, :dynamic} -> record_dynamic(env.id)
          {:template, {:ok, name, arity, _min}} -> record_injected(env.id, {kind, name, arity})
          {:template, :dynamic} -> :ignored
        end
      end

      # The body runs later: only modules and quotes defined in it matter.
      walk_list(args, env, if(mode == :body, do: :code, else: :qcode))
    else
      walk_children(call, env, mode)
    end

    env
  end

  defp walk(other, env, mode) do
    walk_children(other, env, mode)
    env
  end

  # `def head` or `def head, keyword`.
  defp definition_args?([_head]), do: true
  defp definition_args?([_head, opts]), do: is_list(opts) and Keyword.keyword?(opts)
  defp definition_args?(_), do: false

  # Children of a node are walked each in its own scope.
  defp walk_children({left, _, right}, env, mode) do
    unless is_atom(left), do: walk(left, env, mode)
    if is_list(right), do: walk_list(right, env, mode)
    env
  end

  defp walk_children({left, right}, env, mode) do
    walk(left, env, mode)
    walk(right, env, mode)
    env
  end

  defp walk_children(list, env, mode) when is_list(list), do: walk_list(list, env, mode)
  defp walk_children(_leaf, env, _mode), do: env

  defp walk_list(list, env, mode) do
    Enum.each(list, fn expr -> walk(expr, env, mode) end)
    env
  end

  defp quote_body(args) do
    # quote do ... end | quote opts do ... end | quote(opts ++ [do: ...])
    case List.last(args) do
      kw when is_list(kw) ->
        if Keyword.keyword?(kw) and Keyword.has_key?(kw, :do),
          do: {:ok, Keyword.fetch!(kw, :do)},
          else: :error

      _ ->
        :error
    end
  end

  # ---------------------------------------------------------------------------
  # Definitions

  # Returns a list of {:ok, name, arity, min_arity} | :dynamic, one per head.
  defp heads(:defdelegate, {:defdelegate, _, [funs | _]}) when is_list(funs),
    do: Enum.map(funs, &head/1)

  defp heads(_kind, {_, _, [head | _]}), do: [head(head)]

  defp head({:when, _, [head, _guard]}), do: head(head)

  defp head({name, _, args}) when is_atom(name) and is_list(args) do
    cond do
      name in [:unquote, :unquote_splicing] ->
        :dynamic

      Enum.any?(args, &match?({:unquote_splicing, _, _}, &1)) ->
        :dynamic

      true ->
        defaults = Enum.count(args, &match?({:\\, _, [_, _]}, &1))
        {:ok, name, length(args), length(args) - defaults}
    end
  end

  defp head({name, _, context}) when is_atom(name) and is_atom(context), do: {:ok, name, 0, 0}
  defp head(_), do: :dynamic

  # ---------------------------------------------------------------------------
  # Module names and aliases (Kernel.defmodule/2 and :elixir_aliases)

  # Returns {:ok, full_name, alias_to_define | nil} or :error.
  defp nested_name({:__aliases__, _, [:"Elixir", h | t]}, env) when is_atom(h) do
    full = Module.concat([h | t])

    # Elixir < 1.16 (this oracle targets 1.14): a nested `defmodule Elixir.Foo`
    # defines the alias Foo => Foo (elixir-lang/elixir#12456).
    if env.module != nil and t == [], do: {:ok, full, {full, full}}, else: {:ok, full, nil}
  end

  defp nested_name({:__aliases__, _, [h | _]} = ast, %{module: nil} = env) when is_atom(h) do
    case expand(ast, env) do
      {:ok, full} -> {:ok, full, nil}
      :error -> :error
    end
  end

  defp nested_name({:__aliases__, _, [h | t]}, env) when is_atom(h) do
    short = Module.concat([h])
    prefix = Module.concat([env.module, h])
    {:ok, Module.concat([prefix | t]), {short, prefix}}
  end

  defp nested_name(ast, env) do
    case expand(ast, env) do
      {:ok, full} -> {:ok, full, nil}
      :error -> :error
    end
  end

  defp put_alias(env, nil), do: env
  defp put_alias(env, {short, full}), do: %{env | aliases: Map.put(env.aliases, short, full)}

  # Expands an alias AST like Macro.expand/2 would, without compiling anything.
  def expand({:__aliases__, _, [:"Elixir" | t]}, _env) when t != [] do
    if Enum.all?(t, &is_atom/1), do: {:ok, Module.concat(t)}, else: :error
  end

  def expand({:__aliases__, _, [h | t]}, env) when is_atom(h) do
    if Enum.all?(t, &is_atom/1) do
      short = Module.concat([h])
      {:ok, Module.concat([Map.get(env.aliases, short, short) | t])}
    else
      :error
    end
  end

  def expand({:__aliases__, _, [{:__MODULE__, _, ctx} | t]}, %{module: module})
      when is_atom(ctx) and module != nil do
    if Enum.all?(t, &is_atom/1), do: {:ok, Module.concat([module | t])}, else: :error
  end

  def expand({:__MODULE__, _, ctx}, %{module: module}) when is_atom(ctx) and module != nil,
    do: {:ok, module}

  def expand(atom, _env) when is_atom(atom) and atom not in [nil, true, false], do: {:ok, atom}
  def expand(_, _env), do: :error

  defp expand_targets(:none, _env), do: :error

  defp expand_targets(list, env) when is_list(list) do
    Enum.reduce_while(list, {:ok, []}, fn ast, {:ok, acc} ->
      case expand(ast, env) do
        {:ok, full} -> {:cont, {:ok, acc ++ [full]}}
        :error -> {:halt, :error}
      end
    end)
  end

  defp expand_targets(ast, env) do
    case expand(ast, env) do
      {:ok, full} -> {:ok, [full]}
      :error -> :error
    end
  end

  # alias A.B | alias A.B, as: C | alias A.{B, C.D} | require A.B, as: C
  defp add_alias(env, {{:., _, [base, :{}]}, _, children}, _opts) do
    with {:ok, base} <- expand(base, env) do
      Enum.reduce(children, env, fn
        {:__aliases__, _, segments}, env when is_list(segments) ->
          if Enum.all?(segments, &is_atom/1) do
            full = Module.concat([base | segments])
            put_alias(env, {Module.concat([List.last(segments)]), full})
          else
            env
          end

        _, env ->
          env
      end)
    else
      _ -> env
    end
  end

  defp add_alias(env, target, opts) do
    with {:ok, full} <- expand(target, env),
         {:ok, short} <- alias_as(full, opts) do
      put_alias(env, {short, full})
    else
      _ -> env
    end
  end

  defp alias_as(full, opts) do
    case Keyword.fetch(opts, :as) do
      {:ok, {:__aliases__, _, [short]}} when is_atom(short) -> {:ok, Module.concat([short])}
      {:ok, _} -> :error
      :error ->
        case Atom.to_string(full) do
          "Elixir." <> _ -> {:ok, Module.concat([full |> Module.split() |> List.last()])}
          _ -> :error
        end
    end
  end

  # ---------------------------------------------------------------------------
  # Accumulators

  defp new_module(name, meta) do
    id = Process.get(:counter) + 1
    Process.put(:counter, id)
    module = %{id: id, name: name, line: Keyword.get(meta, :line), defs: %{}, dynamic: 0, injected: []}
    Process.put(:modules, Map.put(Process.get(:modules), id, module))
    id
  end

  defp update_module(nil, _fun), do: :ok
  defp update_module(id, fun), do: Process.put(:modules, Map.update!(Process.get(:modules), id, fun))

  defp record_def(id, key, min) do
    update_module(id, fn m ->
      %{m | defs: Map.update(m.defs, key, min, &min(&1, min))}
    end)
  end

  defp record_dynamic(id), do: update_module(id, fn m -> %{m | dynamic: m.dynamic + 1} end)

  defp record_injected(id, key),
    do: update_module(id, fn m -> %{m | injected: [key | m.injected]} end)
end

# compile_check.exs loads this file as a library.
unless Process.get(:oracle_as_library), do: Oracle.Definitions.main(System.argv())
