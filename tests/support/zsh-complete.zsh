#!/usr/bin/env zsh
# Asks a real interactive zsh to complete a command line, and prints the candidates it offers,
# one per line. Usage: zsh -f zsh-complete.zsh COMPLETION_SCRIPT 'ba-index-advisor report --fo'
#
# Completion only runs inside the line editor, so a second zsh runs interactively in a
# pseudo-terminal (the zsh/zpty module); the line is typed into it followed by a Tab. Its
# `compadd` is wrapped to write every candidate the completion functions add to a file, and
# a function in `comppostfuncs` (run once completion is done) marks the end and exits.
emulate -L zsh
zmodload zsh/zpty || exit 3
local script=$1 line=$2
local dir=$(mktemp -d)
local out=$dir/candidates
local init=$dir/init.zsh
: > $out
cat > $init <<EOF
PS1='> '
unsetopt beep
autoload -Uz compinit && compinit -u -D
source ${(q)script}
bindkey '^I' complete-word
zstyle ':completion:*' insert-tab false
# _arguments calls compadd with -O, -A or -D to collect matches for itself: pass those on.
compadd() {
  if [[ " \$* " == *" -"[OAD]" "* ]]; then
    builtin compadd "\$@"
    return
  fi
  local -a hits
  builtin compadd -A hits "\$@"
  (( \$#hits )) && print -rl -- \$hits >> ${(q)out}
  builtin compadd "\$@"
}
finished() { print -r -- '<end>' >> ${(q)out}; exit }
comppostfuncs=(finished)
EOF
zpty z zsh -f -i
zpty -w z "source ${(q)init}"
zpty -w -n z "$line"$'\t'
# Up to 10 s for the candidates: a broken script never ends them.
local i
for i in {1..200}; do
  [[ -s $out && "$(tail -n 1 $out)" == '<end>' ]] && break
  zpty -r -t z _ 2>/dev/null
  sleep 0.05
done
zpty -d z
if [[ "$(tail -n 1 $out)" != '<end>' ]]; then
  print -u2 "no completion finished for: $line"
  cat $out >&2
  rm -rf $dir
  exit 1
fi
sed '$d' $out
rm -rf $dir
