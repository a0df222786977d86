# iasql_embed_sql(OUT_VAR file...) turns each .sql file into a C source that
# defines `const char iasql_sql_<stem>[]`, so the binary carries its own SQL.
function(iasql_embed_sql out_var)
  set(sources)
  foreach(sql ${ARGN})
    get_filename_component(stem ${sql} NAME_WE)
    set(c_out ${CMAKE_BINARY_DIR}/embedded/${stem}_sql.c)
    add_custom_command(
      OUTPUT ${c_out}
      COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_SOURCE_DIR}/${sql} -DOUT=${c_out} -DNAME=iasql_sql_${stem}
              -P ${CMAKE_SOURCE_DIR}/cmake/embed_one.cmake
      DEPENDS ${CMAKE_SOURCE_DIR}/${sql} ${CMAKE_SOURCE_DIR}/cmake/embed_one.cmake
      COMMENT "embedding ${sql}")
    list(APPEND sources ${c_out})
  endforeach()
  set(${out_var} ${sources} PARENT_SCOPE)
endfunction()
