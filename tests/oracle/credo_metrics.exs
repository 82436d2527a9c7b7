# Oracle for elixirscope's complexity metrics (issue [3b]).
#
#     elixir tests/oracle/credo_metrics.exs FILE...
#
# For every FILE prints one line of JSON: every def node (`def`, `defp` or `defmacro` call with
# a list of arguments, anywhere) with Credo's cyclomatic complexity, perceived complexity,
# nesting depth and line, ABC counts and arity, computed on the quoted AST of
# `Code.string_to_quoted/2` exactly as ../shared/CREDO_CHECKS.md §0–5 defines them for
# Credo 1.7.19. It is written from that definition, independently of elixirscope's mapping of
# the rules onto tree-sitter's nodes, which tests/metrics.rs compares with it.

defmodule Oracle.JSON do
  @moduledoc false
  # Objects are `{:obj, [{key, value}]}` so that key order is deterministic.

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

  def string(bin) do
    escaped =
      for <<c::utf8 <- bin>>, into: "" do
        case c do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
          c -> <<c::utf8>>
        end
      end

    "\"" <> escaped <> "\""
  end
end

defmodule Oracle.Metrics do
  @moduledoc false

  @def_ops [:def, :defp, :defmacro]
  @branching [:def, :defp, :defmacro, :if, :unless, :for, :try, :and, :or, :&&, :||]
  @nest_ops [:if, :unless, :case, :cond, :fn, :for, :with]
  # §4 rule 8: atoms that are not branches.
  @non_calls [:==, :fn, :__aliases__, :__block__, :if, :or, :|>, :%{}, :{}, :^]
  @ecto_functions [:where, :from, :select, :join]

  def main(paths), do: Enum.each(paths, &IO.puts(Oracle.JSON.encode(file(&1))))

  defp file(path) do
    source = File.read!(path)

    case Code.string_to_quoted(source, columns: true, token_metadata: true, emit_warnings: false) do
      {:ok, ast} ->
        excluded = if imports_ecto_query?(ast), do: @ecto_functions, else: []
        {_, defs} = Macro.prewalk(ast, [], &collect/2)

        {:obj,
         [
           path: path,
           parse: "ok",
           defs: defs |> Enum.reverse() |> Enum.map(&measure(&1, excluded))
         ]}

      {:error, _} ->
        {:obj, [path: path, parse: "error", defs: []]}
    end
  end

  defp collect({op, _, args} = node, acc) when op in @def_ops and is_list(args),
    do: {node, [node | acc]}

  defp collect(node, acc), do: {node, acc}

  defp imports_ecto_query?(ast) do
    {_, found} =
      Macro.prewalk(ast, false, fn
        {:import, _, [{:__aliases__, _, [:Ecto, :Query]} | _]} = node, _ -> {node, true}
        node, found -> {node, found}
      end)

    found
  end

  defp measure({op, meta, args} = node, excluded) do
    head = List.first(args)
    scored = not (op == :defmacro and match?([{:__using__, _, _}, _], args))
    {cyclomatic, perceived} = complexity(node)
    {depth, nesting_line} = nesting(args, meta[:line], op)
    {a, b, c} = abc(args, excluded)

    {:obj,
     [
       kind: op,
       name: name(head),
       line: meta[:line],
       arity: arity(head),
       scored: scored,
       cyclomatic: cyclomatic,
       perceived: perceived,
       nesting: depth,
       nesting_line: nesting_line,
       abc: [a, b, c]
     ]}
  end

  defp name({:when, _, [head | _]}), do: name(head)
  defp name({name, _, _}) when is_atom(name), do: name
  defp name(_), do: nil

  # §5: head arguments, seen through `when`.
  defp arity({:when, _, [head | _]}), do: arity(head)
  defp arity({_, _, args}) when is_list(args), do: length(args)
  defp arity(_), do: 0

  # §1 and §2, summed in pre-order over the whole def node.
  defp complexity(node) do
    {_, {cyclomatic, perceived}} =
      Macro.prewalk(node, {0, 0}, fn
        {op, _, args} = n, {cc, pc} when op in @branching and is_list(args) ->
          {n, {cc + 1, pc + 1}}

        {:case, _, args} = n, {cc, pc} when is_list(args) ->
          count = args |> do_value() |> List.wrap() |> length()
          {n, {cc + count, pc + count * 0.3}}

        {:cond, _, args} = n, {cc, pc} when is_list(args) ->
          count = args |> do_value() |> List.wrap() |> length()
          {n, {cc + count, pc + count}}

        n, acc ->
          {n, acc}
      end)

    {cyclomatic, round(perceived)}
  end

  # The value of `:do` in the first keyword list among `args` that has it.
  defp do_value([do: value]), do: value

  defp do_value(args) when is_list(args) do
    Enum.find_value(args, fn
      list when is_list(list) -> if Keyword.has_key?(list, :do), do: {:ok, list[:do]}
      _ -> nil
    end)
    |> case do
      {:ok, value} -> value
      nil -> nil
    end
  end

  # §3.
  defp nesting(args, line, op) do
    case depth(args, 0, line, op) do
      {depth, line, _trigger} -> {depth, line}
      nil -> {0, line}
    end
  end

  defp depth(list, level, line, trigger) when is_list(list) do
    list
    |> blocks()
    |> Enum.flat_map(fn block -> block |> List.wrap() |> Enum.map(&depth(&1, level, line, trigger)) end)
    |> deepest()
  end

  defp depth({op, meta, args}, level, _line, _trigger) when op in @nest_ops and is_list(args),
    do: args |> Enum.map(&depth(&1, level + 1, meta[:line], op)) |> deepest()

  defp depth({head, _, args}, level, line, trigger)
       when (is_atom(head) or is_tuple(head)) and is_list(args),
       do: args |> Enum.map(&depth(&1, level, line, trigger)) |> deepest()

  defp depth(_leaf, level, line, trigger), do: {level, line, trigger}

  defp deepest(results), do: results |> Enum.sort() |> List.last()

  # §3 rule 2: exact shapes, else the first element that is a keyword list with the key.
  defp blocks(list), do: Enum.map([:do, :else, :rescue, :after], &block(list, &1))

  defp block([do: value], :do), do: value
  defp block([do: value, else: _], :do), do: value
  defp block([do: _, else: value], :else), do: value
  defp block([do: _, rescue: value], :rescue), do: value
  defp block([do: _, after: value], :after), do: value

  defp block(list, key) do
    Enum.find_value(list, fn
      element when is_list(element) -> if Keyword.has_key?(element, key), do: {:ok, element[key]}
      _ -> nil
    end)
    |> case do
      {:ok, value} -> value
      nil -> nil
    end
  end

  # §4.
  defp abc(args, excluded) do
    case do_value(args) do
      nil ->
        {0, 0, 0}

      body ->
        known = parameters(List.first(args))

        {_, {a, b, c, _}} =
          Macro.prewalk(body, {0, 0, 0, known}, &abc_node(&1, &2, excluded))

        {a, b, c}
    end
  end

  defp parameters({_, _, nil}), do: []
  defp parameters({_, _, params}) when is_list(params), do: variables(params)
  defp parameters(_), do: []

  defp variables(list), do: for({name, _, nil} when is_atom(name) <- list, do: name)

  defp abc_node({op, _, args} = node, acc, _) when op in @def_ops and is_list(args), do: {node, acc}
  defp abc_node({:<<>>, _, _}, acc, _), do: {nil, acc}
  defp abc_node({:unquote, _, args}, acc, _) when is_list(args), do: {args, acc}
  defp abc_node({:@, _, _}, {a, b, c, known}, _), do: {nil, {a + 1, b, c, known}}

  defp abc_node({:=, _, [lhs, rhs]}, {a, b, c, known}, _) do
    known = known ++ variables([lhs])
    {[rhs], {a + 1, b, c, known}}
  end

  defp abc_node({:->, _, [params, body]} = node, {a, b, c, known}, _) do
    {node, {a, b + 1, c, known ++ clause_parameters(params, body)}}
  end

  defp abc_node({:., _, [{_, _, nil}, _]} = node, acc, _), do: {node, acc}
  defp abc_node({:., _, args} = node, {a, b, c, known}, _) when is_list(args),
    do: {node, {a, b + 1, c, known}}

  defp abc_node({atom, _, args} = node, {a, b, c, known} = acc, excluded)
       when is_atom(atom) and is_list(args) and atom not in @non_calls do
    if atom in excluded, do: {nil, acc}, else: {node, {a, b + 1, c, known}}
  end

  defp abc_node({name, _, nil} = node, {a, b, c, known} = acc, _) when is_atom(name) do
    if name in known or String.starts_with?(Atom.to_string(name), "_"),
      do: {node, acc},
      else: {node, {a, b + 1, c, known}}
  end

  defp abc_node({op, _, args} = node, {a, b, c, known}, _) when op in [:if, :or] and is_list(args),
    do: {node, {a, b, c + 1, known}}

  defp abc_node(node, acc, _), do: {node, acc}

  # Variables a `->` clause makes known.
  defp clause_parameters(params, body) when is_list(params) and is_tuple(body), do: variables(params)
  defp clause_parameters([{:when, _, params}], _body) when is_list(params), do: variables(params)
  defp clause_parameters(_, _), do: []
end

Oracle.Metrics.main(System.argv())
