"""The simulated switches' SSH command line: Cisco IOS and HP/Aruba ProCurve dialects.

`cisco_ios` and `hp_procurve` render each show command from the site model (pure functions);
`grammar` resolves what was typed (abbreviations, ambiguity, errors) the way those CLIs do;
`shell` is one interactive session (prompts, enable, paging, pipes); `server` serves it over SSH.
"""
