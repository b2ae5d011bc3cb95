# cmake -DDIALECT=<name> -DDIR=<migrations dir> -DOUT=<file.cpp> -P embed_migrations.cmake
#
# Turns DIR/NNNN_name.up.sql + NNNN_name.down.sql into a C++ source defining
# authd::store::<DIALECT>_migrations(), so authd needs no migration files at run time.
# Versions must be 1, 2, 3, ... without gaps, and every up file needs its down file.
cmake_minimum_required(VERSION 3.25)

file(GLOB ups RELATIVE "${DIR}" "${DIR}/*.up.sql")
list(SORT ups COMPARE NATURAL)
set(delim "authd_sql")
set(entries "")
set(expected 1)
foreach(up IN LISTS ups)
  if(NOT up MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.up\\.sql$")
    message(FATAL_ERROR "migration ${DIR}/${up}: name must be NNNN_snake_name.up.sql")
  endif()
  set(digits "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  math(EXPR version "${digits}")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "migration ${DIR}/${up}: expected version ${expected} (no gaps, no duplicates)")
  endif()
  set(down "${digits}_${name}.down.sql")
  if(NOT EXISTS "${DIR}/${down}")
    message(FATAL_ERROR "migration ${DIR}/${up} has no ${down}")
  endif()
  file(READ "${DIR}/${up}" up_sql)
  file(READ "${DIR}/${down}" down_sql)
  foreach(sql IN ITEMS "${up_sql}" "${down_sql}")
    string(FIND "${sql}" ")${delim}\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "migration ${DIR}/${up}: contains the raw-string delimiter )${delim}\"")
    endif()
  endforeach()
  string(APPEND entries
    "    {${version}, \"${name}\",\n     R\"${delim}(${up_sql})${delim}\",\n     R\"${delim}(${down_sql})${delim}\"},\n")
  math(EXPR expected "${expected} + 1")
endforeach()
if(expected EQUAL 1)
  message(FATAL_ERROR "no migrations in ${DIR}")
endif()

set(content "// Generated from migrations/${DIALECT}/*.sql by src/store/embed_migrations.cmake. Do not edit.
#include \"store/migration.h\"

namespace authd::store {
namespace {

constexpr Migration kMigrations[] = {
${entries}};

}  // namespace

std::span<const Migration> ${DIALECT}_migrations() { return kMigrations; }

}  // namespace authd::store
")
# Rewrite only on change so that touching nothing rebuilds nothing.
file(WRITE "${OUT}.tmp" "${content}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
