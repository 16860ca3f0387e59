{#- Generic test: every row satisfies a SQL expression (no package needed). -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
