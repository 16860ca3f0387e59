-- Block-list rule: its category groups are listed in seeds/rule_category_groups.csv.
{{ block_list_rule('personal-use merchant type (explanation needed)') }}
