{#-
    Rule discovery. Every model with a meta.rule block (models/rules/**) is a rule; the catalog and the union
    of hits are generated from those blocks, so nobody keeps a list of rules in SQL.
-#}

{#- The rule models of the project, sorted by name (empty while parsing). -#}
{% macro rule_nodes() -%}
    {%- set rules = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name') -%}
            {%- if node.resource_type == 'model' and node.config.meta.get('rule') -%}
                {%- do rules.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(rules) }}
{%- endmacro %}

{% macro sql_text(value) -%}
    {%- if value is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        '{{ (value | string).replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{% macro sql_integer(value) -%}
    {%- if value is none -%}cast(null as integer){%- else -%}cast({{ value | int }} as integer){%- endif -%}
{%- endmacro %}

{#- One row per rule with its metadata (a typed empty set while parsing). -#}
{% macro rule_metadata_rows() -%}
    {%- set rules = rule_nodes() -%}
    {%- if rules | length == 0 %}
    select
        {{ sql_text(none) }} as rule_id,
        {{ sql_text(none) }} as model_name,
        {{ sql_text(none) }} as rule_set,
        {{ sql_integer(none) }} as rule_number,
        {{ sql_text(none) }} as name_en,
        {{ sql_text(none) }} as name_ko,
        {{ sql_text(none) }} as typology,
        {{ sql_text(none) }} as rule_description,
        {{ sql_integer(none) }} as severity,
        {{ sql_text(none) }} as owner,
        {{ sql_text(none) }} as rule_status,
        {{ sql_integer(none) }} as rule_version,
        {{ sql_text(none) }} as sources_needed,
        {{ sql_text(none) }} as optional_sources,
        {{ sql_text(none) }} as model_path
    where 1 = 0
    {%- endif %}
    {%- for node in rules %}
        {%- set rule = node.config.meta.rule %}
    select
        {{ sql_text(rule.get('id')) }} as rule_id,
        {{ sql_text(node.name) }} as model_name,
        {{ sql_text(rule.get('rule_set', 'cardwatch')) }} as rule_set,
        {{ sql_integer(rule.get('number')) }} as rule_number,
        {{ sql_text(rule.get('name_en')) }} as name_en,
        {{ sql_text(rule.get('name_ko')) }} as name_ko,
        {{ sql_text(rule.get('typology')) }} as typology,
        {{ sql_text(node.description) }} as rule_description,
        {{ sql_integer(rule.get('severity')) }} as severity,
        {{ sql_text(rule.get('owner')) }} as owner,
        {{ sql_text(rule.get('status')) }} as rule_status,
        {{ sql_integer(rule.get('version')) }} as rule_version,
        {{ sql_text(rule.get('sources', []) | join(',')) }} as sources_needed,
        {{ sql_text(rule.get('optional_sources', []) | join(',')) }} as optional_sources,
        {{ sql_text(node.original_file_path) }} as model_path
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One row per rule and landing source it reads (needed or optional). -#}
{% macro rule_source_rows() -%}
    {%- set rows = [] -%}
    {%- for node in rule_nodes() -%}
        {%- set rule = node.config.meta.rule -%}
        {%- for source_name in rule.get('sources', []) -%}
            {%- do rows.append((rule.id, source_name, true)) -%}
        {%- endfor -%}
        {%- for source_name in rule.get('optional_sources', []) -%}
            {%- do rows.append((rule.id, source_name, false)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows | length == 0 %}
    select
        {{ sql_text(none) }} as rule_id,
        {{ sql_text(none) }} as source_name,
        cast(null as boolean) as is_needed
    where 1 = 0
    {%- endif %}
    {%- for rule_id, source_name, is_needed in rows %}
    select
        {{ sql_text(rule_id) }} as rule_id,
        {{ sql_text(source_name) }} as source_name,
        {{ 'true' if is_needed else 'false' }} as is_needed
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    The union of every rule model's hits. dbt orders models by the refs it sees while parsing, before the
    graph exists, so fct_rule_hits declares each rule once in a `-- depends_on:` line; this macro stops the
    build with the exact line to add when a rule model is missing there.
-#}
{% macro union_rule_hits() -%}
    {%- set rules = rule_nodes() -%}
    {%- if execute -%}
        {%- set missing = [] -%}
        {%- for node in rules -%}
            {%- if node.unique_id not in model.depends_on.nodes -%}
                {%- do missing.append("-- depends_on: {{ ref('" ~ node.name ~ "') }}") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if missing | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ " does not declare every rule model. Add to " ~ model.original_file_path
                ~ ":\n" ~ missing | join("\n")
            ) }}
        {%- endif -%}
    {%- endif -%}
    {%- if rules | length == 0 %}
    select
        {{ sql_text(none) }} as transaction_id,
        {{ sql_text(none) }} as rule_id,
        {{ sql_integer(none) }} as severity,
        {{ sql_text(none) }} as reason
    where 1 = 0
    {%- endif %}
    {%- for node in rules %}
    select
        cast(transaction_id as {{ dbt.type_string() }}) as transaction_id,
        cast(rule_id as {{ dbt.type_string() }}) as rule_id,
        cast(severity as integer) as severity,
        cast(reason as {{ dbt.type_string() }}) as reason
    from {{ ref(node.name) }}
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Problems with the rule models' catalog metadata, as (model_name, problem) rows (see the singular test). -#}
{% macro rule_metadata_problem_rows() -%}
    {%- set required = [
        'id', 'rule_set', 'name_en', 'name_ko', 'typology', 'severity', 'owner', 'status', 'version', 'sources'
    ] -%}
    {%- set statuses = ['draft', 'shadow', 'active', 'retired'] -%}
    {%- set sources = ['card_transactions', 'employees', 'leave', 'trips', 'merchants', 'expense_claims',
                       'related_parties', 'case_outcomes', 'legacy_alerts'] -%}
    {%- set problems = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='name') -%}
            {%- if node.resource_type == 'model' and node.original_file_path.startswith('models/rules/') -%}
                {%- set rule = node.config.meta.get('rule') -%}
                {%- if not node.name.startswith('rule_') -%}
                    {%- do problems.append((node.name, 'a model in models/rules must be named rule_<id>')) -%}
                {%- endif -%}
                {%- if not rule -%}
                    {%- do problems.append((node.name, 'no meta.rule block')) -%}
                {%- else -%}
                    {%- for key in required -%}
                        {%- if rule.get(key) is none -%}
                            {%- do problems.append((node.name, 'meta.rule.' ~ key ~ ' is missing')) -%}
                        {%- endif -%}
                    {%- endfor -%}
                    {%- if rule.get('id') != node.name.replace('rule_', '', 1) -%}
                        {%- do problems.append((node.name, 'meta.rule.id must equal the model name without rule_')) -%}
                    {%- endif -%}
                    {%- if rule.get('status') not in statuses -%}
                        {%- do problems.append((node.name, 'unknown status ' ~ rule.get('status'))) -%}
                    {%- endif -%}
                    {%- if rule.get('rule_set') not in ['cardwatch', 'legacy'] -%}
                        {%- do problems.append((node.name, 'unknown rule_set ' ~ rule.get('rule_set'))) -%}
                    {%- endif -%}
                    {%- set in_legacy_folder = node.original_file_path.startswith('models/rules/legacy/') -%}
                    {%- if (rule.get('rule_set') == 'legacy') != in_legacy_folder -%}
                        {%- do problems.append((node.name, 'legacy rules live in models/rules/legacy/ and only there')) -%}
                    {%- endif -%}
                    {%- if rule.get('severity') not in [1, 2, 3, 4, 5] -%}
                        {%- do problems.append((node.name, 'severity must be 1..5')) -%}
                    {%- endif -%}
                    {%- if 'card_transactions' not in (rule.get('sources') or []) -%}
                        {%- do problems.append((node.name, 'every rule needs card_transactions')) -%}
                    {%- endif -%}
                    {%- for source_name in (rule.get('sources') or []) + (rule.get('optional_sources') or []) -%}
                        {%- if source_name not in sources -%}
                            {%- do problems.append((node.name, 'unknown landing source ' ~ source_name)) -%}
                        {%- endif -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if problems | length == 0 %}
    select
        {{ sql_text(none) }} as model_name,
        {{ sql_text(none) }} as problem
    where 1 = 0
    {%- endif %}
    {%- for model_name, problem in problems %}
    select
        {{ sql_text(model_name) }} as model_name,
        {{ sql_text(problem) }} as problem
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One row per model in models/rules/ (model_name). -#}
{% macro rule_model_name_rows() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.original_file_path.startswith('models/rules/') -%}
                {%- do names.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if names | length == 0 %}
    select {{ sql_text(none) }} as model_name where 1 = 0
    {%- endif %}
    {%- for name in names | sort %}
    select {{ sql_text(name) }} as model_name
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
