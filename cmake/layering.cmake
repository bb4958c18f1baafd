# The build enforces the layering (docs/ARCHITECTURE.md): a library sees only
# its own headers and those of the libraries it links. There is no global
# include path to src/; instead each library gets a folder of its own under
# <build>/layers/<library>/ holding symbolic links to its headers at their usual
# paths ("engine/sync_engine.h"), published as that library's PUBLIC include
# directory. Linking a library is what makes its headers visible, so an
# include of a library that is not linked fails to compile, naming the header.
#
# A header belongs to the library that compiles the .cc of the same name in its
# folder; a header without one belongs to the folder's first library.

# The targets defined in DIR and every folder below it, in definition order.
function(_conflux_targets_below dir out)
  get_property(found DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _conflux_targets_below(${sub} below)
    list(APPEND found ${below})
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# Publishes the headers of every library defined under src/ as described above.
function(conflux_enforce_layering)
  set(src ${PROJECT_SOURCE_DIR}/src)
  set(layers ${CMAKE_BINARY_DIR}/layers)
  file(REMOVE_RECURSE ${layers})  # a header that moved or went away leaves no stale link
  _conflux_targets_below(${PROJECT_SOURCE_DIR} all_targets)
  set(folders "")
  foreach(target IN LISTS all_targets)
    get_target_property(type ${target} TYPE)
    get_target_property(dir ${target} SOURCE_DIR)
    if(NOT type MATCHES "^(STATIC|SHARED|MODULE|OBJECT)_LIBRARY$" OR NOT dir MATCHES "^${src}/")
      continue()
    endif()
    list(APPEND folders ${dir})
    list(APPEND libraries_in_${dir} ${target})
    set(include_dir ${layers}/${target})
    file(MAKE_DIRECTORY ${include_dir})
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${include_dir}>)
  endforeach()
  list(REMOVE_DUPLICATES folders)

  foreach(dir IN LISTS folders)
    file(RELATIVE_PATH folder ${src} ${dir})
    file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${dir} ${dir}/*.h)
    list(GET libraries_in_${dir} 0 owner_by_default)
    foreach(header IN LISTS headers)
      get_filename_component(stem ${header} NAME_WE)
      set(owner ${owner_by_default})
      foreach(library IN LISTS libraries_in_${dir})
        get_target_property(sources ${library} SOURCES)
        if("${stem}.cc" IN_LIST sources)
          set(owner ${library})
        endif()
      endforeach()
      file(MAKE_DIRECTORY ${layers}/${owner}/${folder})
      file(CREATE_LINK ${dir}/${header} ${layers}/${owner}/${folder}/${header} SYMBOLIC)
    endforeach()
  endforeach()
endfunction()
